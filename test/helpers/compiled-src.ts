// src/ compiled to JavaScript, for tests that run library code in a child process (Node 20
// cannot run .ts itself). Compiled once per test process into its own directory under
// .cache/; tsc emits even when files other than the ones the child needs have type errors.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './fixtures.js';

let compiled: string | undefined;

/** The directory holding src/ as .js (dist layout): `${dir}/store/index.js` and so on. */
export function compiledSrc(): string {
  if (compiled) return compiled;
  const outDir = processCacheDir('test-dist');
  compileSrcInto(outDir, 'index.js');
  compiled = outDir;
  return outDir;
}

/**
 * `.cache/<kind>/<pid>` of this test process, emptied; the dirs of earlier processes that are
 * gone are removed on the way.
 */
export function processCacheDir(kind: string): string {
  const parent = join(REPO_ROOT, '.cache', kind);
  for (const name of existsSync(parent) ? readdirSync(parent) : []) {
    if (!existsSync(`/proc/${name}`)) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const dir = join(parent, String(process.pid));
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** Compiles src/ into `outDir` (dist layout); fails unless `expected` (relative) was emitted. */
export function compileSrcInto(outDir: string, expected: string): void {
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', REPO_ROOT, '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'], {
      stdio: 'pipe',
    });
  } catch {
    // Type errors elsewhere in the tree do not stop emission; a missing output below does.
  }
  if (!existsSync(join(outDir, expected))) throw new Error(`tsc did not emit ${outDir}/${expected}`);
}
