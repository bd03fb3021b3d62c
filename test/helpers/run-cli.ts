// Runs the CLI in-process through main() with captured streams: what a user types and sees.

import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/context.js';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** What the command reads on stdin (nothing by default). */
  stdin?: string | Buffer;
}

export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  const ctx: CliContext = {
    stdout, stderr, env: options.env ?? {}, cwd: options.cwd ?? process.cwd(),
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]), stdinIsTTY: false,
    stdoutIsTTY: false, stderrIsTTY: false, signal: new AbortController().signal,
  };
  const status = await main(argv, ctx);
  return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
