// RUN: the parent's snapshots as overlay lower dirs, a fresh upper dir, the native sandbox.
// The step sees exactly the recipe's environment (nothing of the host's), the image's own
// users, its workdir (created if missing), and the network only when asked. The upper dir
// then becomes the step's layer, or none when the step changed nothing.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { BuildError, StepFailedError, type StepFailure } from '../errors.js';
import { runSandboxed } from '../exec/sandbox.js';
import type { SandboxMount } from '../exec/types.js';
import { LayeredRoot } from '../exec/layered-root.js';
import { resolveUser, type ResolvedUser } from '../exec/users.js';
import { formatPlatform, hostPlatform } from '../plan/platform.js';
import type { RunStep } from '../plan/types.js';
import type { LayerRef } from '../store/types.js';
import { commitUpperDir } from './commit-layer.js';
import type { ImageState } from './image.js';
import { prepareMounts } from './run-mounts.js';
import { scratchUpper, snapshotDirs, type BuildRuntime } from './runtime.js';
import type { ExecContext } from './solver.js';
import { resolveNetwork, runEnvironment } from './step-definitions.js';

/** Lines of output kept for the error report of a failing step. */
const LOG_TAIL_LINES = 20;

/** `sources`: the states of the stages and images the step's mounts read, by mount index. */
export async function runStep(
  runtime: BuildRuntime,
  step: RunStep,
  parent: ImageState,
  sources: ReadonlyMap<number, ImageState>,
  ctx: ExecContext,
): Promise<LayerRef | null> {
  requireHostPlatform(runtime, step);
  const lowerDirs = await snapshotDirs(runtime, parent);
  const root = new LayeredRoot(lowerDirs);
  const user = await runUser(root, step.config.user);
  const env = runEnvironment(step);
  // As runc does for Docker: HOME from the user's passwd entry when the recipe sets none.
  if (!env.some((entry) => entry.startsWith('HOME='))) env.push(`HOME=${await homeDir(root, user.uid)}`);
  const scratch = await scratchUpper(runtime, 'run');
  try {
    const heredocs = await heredocMounts(step, scratch.path);
    // Nothing may fail between preparing the mounts and use(), which releases them.
    const prepared = await prepareMounts(runtime, step, { sources, scratch: scratch.path });
    const mounts = [...prepared.mounts, ...heredocs];
    const tail = new LogTail(LOG_TAIL_LINES);
    // A chunk may end inside a UTF-8 character: each stream decodes across chunk boundaries.
    const logTo = (stream: 'stdout' | 'stderr') => {
      const decoder = new StringDecoder('utf8');
      return (chunk: Buffer) => {
        const text = decoder.write(chunk);
        tail.push(text);
        if (text !== '') ctx.log(stream, text);
      };
    };
    const result = await prepared.use(() => runSandboxed(
      {
        lowerDirs,
        upperDir: scratch.upperDir,
        workDir: scratch.workDir,
        argv: step.command.form === 'shell' ? [...step.config.shell, step.command.script] : step.command.argv,
        env: [...env, ...prepared.env],
        cwd: step.config.workdir || '/',
        uid: user.uid,
        gid: user.gid,
        groups: user.groups,
        network: resolveNetwork(step, runtime.keyContext),
        mounts,
        limits: runtime.limits,
        ...runtime.keyContext.sandbox,
      },
      {
        signal: ctx.signal,
        onStdout: logTo('stdout'),
        onStderr: logTo('stderr'),
      },
    ));
    if (result.failure || result.exitCode !== 0) {
      const failure: StepFailure = result.failure ?? { kind: 'exit', status: result.exitCode };
      throw new StepFailedError(`${step.instruction} ${describeFailure(failure)}`, failure, {
        location: step.location,
        source: runtime.graph.source,
        logTail: tail.lines(),
        hint: failure.kind === 'oom' ? 'raise --memory, or make the step use less memory' : undefined,
      });
    }
    return await commitUpperDir(runtime.store, scratch.upperDir, { sourceDateEpoch: runtime.sourceDateEpoch, kind: 'overlay-upper' });
  } finally {
    await scratch.release();
  }
}

/** RUN executes the image's binaries on this machine: another architecture would need emulation. */
function requireHostPlatform(runtime: BuildRuntime, step: RunStep): void {
  const target = runtime.keyContext.platform;
  const host = hostPlatform();
  if (target.os === host.os && target.architecture === host.architecture) return;
  throw new BuildError('E_PLATFORM_UNSUPPORTED', `RUN for ${formatPlatform(target)} cannot run on this ${formatPlatform(host)} machine`, {
    location: step.location,
    hint: 'emulation of other architectures is not supported; build for this platform, or use FROM --platform=$BUILDPLATFORM for stages that RUN',
  });
}

/** An empty USER is root without a passwd lookup, as in Docker (scratch images have no passwd). */
async function runUser(root: LayeredRoot, user: string): Promise<ResolvedUser> {
  if (user === '' || user === '0' || user === '0:0') return { uid: 0, gid: 0, groups: [] };
  return resolveUser(root, user);
}

/** The home dir of `uid` in the image's /etc/passwd; `/` when there is none. */
async function homeDir(root: LayeredRoot, uid: number): Promise<string> {
  const entry = await root.stat('/etc/passwd');
  if (!entry?.stats.isFile()) return '/';
  const handle = await root.open('/etc/passwd');
  try {
    const line = (await handle.readFile('utf8')).split('\n').map((l) => l.split(':')).find((fields) => fields[2] === String(uid));
    return line?.[5] || '/';
  } finally {
    await handle.close();
  }
}

export function describeFailure(failure: StepFailure): string {
  switch (failure.kind) {
    case 'exit':
      return `failed with exit status ${failure.status}`;
    case 'signal':
      return `was killed by signal ${failure.signal}`;
    case 'oom':
      return `ran out of memory${failure.limitBytes ? ` (limit ${failure.limitBytes} bytes)` : ''}`;
    case 'pids':
      return `hit the process limit${failure.limit ? ` (${failure.limit})` : ''}`;
    case 'timeout':
      return `timed out after ${failure.seconds}s`;
    case 'setup':
      return `could not start: ${failure.message}`;
  }
}

/** BuildKit's `RUN <<EOF` with a shebang runs the script from a file at /dev/pipes/<name>. */
async function heredocMounts(step: RunStep, scratch: string): Promise<SandboxMount[]> {
  if (step.heredocs.length === 0) return [];
  const pipes = join(scratch, 'pipes');
  await mkdir(pipes);
  for (const heredoc of step.heredocs) {
    const file = join(pipes, heredoc.name);
    await writeFile(file, heredoc.content);
    await chmod(file, 0o755);
  }
  return [{ type: 'bind', source: pipes, target: '/dev/pipes', readonly: true }];
}

/** The last lines of a step's output, for the error report. */
class LogTail {
  private text = '';
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  push(text: string): void {
    // Bounded in characters too: one endless line must not grow without limit.
    this.text = (this.text + text).slice(-16_384).split('\n').slice(-(this.max + 1)).join('\n');
  }

  lines(): string[] {
    return this.text.replace(/\n$/, '').split('\n').filter((line, i, all) => line !== '' || i < all.length - 1).slice(-this.max);
  }
}
