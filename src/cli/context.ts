// What a command handler may touch of the outside world. main() builds it from the real
// process; tests build it with captured streams.

import type { Writable } from 'node:stream';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
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
