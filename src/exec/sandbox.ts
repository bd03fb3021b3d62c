// Runs one step in the native sandbox helper (native/README.md): builds its argv, streams
// stdout and stderr to the callbacks as they come, and maps the outcome to a StepFailure.
// TypeScript never mounts anything itself.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { BuildError, CancelledError } from '../errors.js';
import { sandboxArgv, sandboxEnvPayload } from './sandbox-args.js';
import { outcomeFromStatus } from './sandbox-status.js';
import type { SandboxIO, SandboxResult, SandboxSpec } from './types.js';

/** After an abort the helper gets SIGTERM (it kills the step within a second), then SIGKILL. */
const ABORT_BACKSTOP_MS = 3000;
/** How much of the helper's stderr is kept to explain a helper that died without a status. */
const STDERR_TAIL_BYTES = 4096;

/** The helper binary that `make -C native` builds. */
export function sandboxHelperPath(): string {
  return resolve(import.meta.dirname, '../../native/build/tsbuild-sandbox');
}

/** `tsbuild-sandbox 0.1.0`, or throws when the helper is not built. */
export function sandboxHelperVersion(): string {
  return execFileSync(requireHelper(), ['--version'], { encoding: 'utf8' }).trim();
}

function requireHelper(): string {
  const path = sandboxHelperPath();
  if (!existsSync(path)) {
    throw new BuildError('E_SANDBOX_MISSING', `the sandbox helper is not built (${path} is missing)`, {
      hint: 'run `npm run build` (or `make -C native`); it needs gcc, make and libc6-dev',
    });
  }
  return path;
}

export interface SandboxRunOptions {
  /** A command the helper is run under, e.g. `setpriv --reuid U --regid G --clear-groups --`
   * to run a step rootless from a root process. */
  launcher?: string[];
}

/**
 * Runs `spec.argv` isolated over the overlay of `spec.lowerDirs` + `spec.upperDir`. Resolves
 * with the outcome, failures included (`failure` says why); rejects with CancelledError when
 * `io.signal` aborts it, once every process of the step is gone.
 */
export function runSandboxed(
  spec: SandboxSpec,
  io: SandboxIO = {},
  options: SandboxRunOptions = {},
): Promise<SandboxResult> {
  const helper = requireHelper();
  const args = sandboxArgv(spec);
  const envPayload = sandboxEnvPayload(spec);
  if (io.signal?.aborted) return Promise.reject(new CancelledError());
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const launcher = options.launcher ?? [];
    const file = launcher[0] ?? helper;
    const argv = launcher.length > 0 ? [...launcher.slice(1), helper, ...args] : args;
    // With a terminal the step writes to it directly, and its output is not streamed.
    const output = spec.tty ? 'inherit' : 'pipe';
    const child = spawn(file, argv, {
      stdio: [spec.interactive || spec.tty ? 'inherit' : 'ignore', output, output, 'pipe', 'pipe'],
      env: {},
    });
    const envPipe = child.stdio[4] as Writable | null;
    // A helper that dies before reading closes the pipe: that is reported by its exit, not here.
    envPipe?.on('error', () => {});
    envPipe?.end(envPayload);
    let status = '';
    let stderrTail = '';
    let aborted = false;
    let backstop: NodeJS.Timeout | undefined;
    child.stdout?.on('data', (chunk: Buffer) => io.onStdout?.(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      io.onStderr?.(chunk);
    });
    child.stdio[3]?.on('data', (chunk: Buffer) => (status += chunk.toString('utf8')));
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGTERM');
      backstop = setTimeout(() => child.kill('SIGKILL'), ABORT_BACKSTOP_MS);
      backstop.unref();
    };
    io.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      io.signal?.removeEventListener('abort', onAbort);
      reject(new BuildError('E_SANDBOX_SPAWN', `cannot start the sandbox helper: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      io.signal?.removeEventListener('abort', onAbort);
      if (backstop !== undefined) clearTimeout(backstop);
      if (aborted) {
        reject(new CancelledError());
        return;
      }
      const outcome = outcomeFromStatus(status, code, signal, stderrTail);
      resolvePromise({ ...outcome, durationMs: performance.now() - started });
    });
  });
}
