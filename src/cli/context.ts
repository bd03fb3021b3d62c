// What a command handler may touch of the outside world. main() builds it from the real
// process; tests build it with captured streams.

import type { Readable, Writable } from 'node:stream';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface CliContext {
  /** What `login --password-stdin` reads. `shell` hands the process's own descriptor 0 to the step. */
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Aborted on SIGINT/SIGTERM; long-running commands pass it down. */
  signal: AbortSignal;
}

/** Options every command accepts (yargs globals). */
export interface GlobalOptions {
  root?: string;
  logLevel: LogLevel;
}
