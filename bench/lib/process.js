// Running commands for benchmarks: wall time and the peak resident memory of the process.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIME = '/usr/bin/time';

/**
 * Runs `file args` to completion and returns { ms, stdout, stderr, maxRssMB }. maxRssMB is
 * GNU time's %M: the largest resident set of the process (or of any child it waited for).
 * Throws with the command's stderr when it exits non-zero.
 */
export function measure(file, args, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-'));
  const rssFile = join(dir, 'rss');
  try {
    const started = performance.now();
    const result = spawnSync(TIME, ['-f', '%M', '-o', rssFile, file, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
    const ms = performance.now() - started;
    if (result.status !== 0) {
      throw new Error(`${file} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${String(result.stderr).slice(-4000)}`);
    }
    const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    return { ms, stdout: result.stdout, stderr: result.stderr, maxRssMB: Math.round(kb / 1024) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a command, returns its stdout; throws with its stderr when it fails. */
export function run(file, args, options = {}) {
  const result = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (result.status !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${String(result.stderr).slice(-4000)}`);
  }
  return result.stdout;
}
