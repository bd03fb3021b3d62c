// File trees written inline in a test (after changesets' testdir): the test shows its input,
// and the temp dir is removed when the test ends.

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

/** A tree entry: file content, or a typed entry. A key ending in `/` is an empty dir. */
export type TreeEntry =
  | string
  | { file: string | Uint8Array; mode?: number; uid?: number; gid?: number }
  | { dir: true; mode?: number; uid?: number; gid?: number; opaque?: boolean }
  | { symlink: string }
  | { hardlink: string }
  | { whiteout: true };

export type Tree = Record<string, TreeEntry>;

/**
 * Gives the rest of the describe block (call it after the hooks that make its other dirs) a
 * TMPDIR of its own, removed after it: builds run in-process then make their temp files there,
 * so a check for leftovers sees this file's builds only, whatever other files run meanwhile.
 */
export function usePrivateTmpdir(prefix: string): void {
  let previous: string | undefined;
  beforeAll(() => {
    previous = process.env.TMPDIR;
    process.env.TMPDIR = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    const own = tmpdir();
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(own, { recursive: true, force: true });
  });
}

/** Writes `tree` into a fresh temp dir and returns its path. Entries are written in key order. */
export function testdir(tree: Tree = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'tsbuild-test-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  writeTree(root, tree);
  return root;
}

export function writeTree(root: string, tree: Tree): void {
  for (const [name, entry] of Object.entries(tree)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof entry === 'string' && name.endsWith('/')) {
      mkdirSync(path, { recursive: true });
    } else if (typeof entry === 'string') {
      writeFileSync(path, entry);
    } else if ('file' in entry) {
      writeFileSync(path, entry.file);
      setMeta(path, entry);
    } else if ('dir' in entry) {
      mkdirSync(path, { recursive: true });
      setMeta(path, entry);
      if (entry.opaque) execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path]);
    } else if ('symlink' in entry) {
      symlinkSync(entry.symlink, path);
    } else if ('hardlink' in entry) {
      linkSync(join(root, entry.hardlink), path);
    } else {
      execFileSync('mknod', [path, 'c', '0', '0']);
    }
  }
}

function setMeta(path: string, meta: { mode?: number; uid?: number; gid?: number }): void {
  if (meta.uid !== undefined || meta.gid !== undefined) chownSync(path, meta.uid ?? 0, meta.gid ?? 0);
  if (meta.mode !== undefined) chmodSync(path, meta.mode);
}

/**
 * One line per entry below `root`, sorted: `path type mode uid:gid` plus the content of a
 * file or the target of a symlink, so a test can compare a whole tree at once.
 */
export function listTree(root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const stats = lstatSync(path);
      const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
      const head = `${relPath} ${mode} ${stats.uid}:${stats.gid}`;
      if (stats.isDirectory()) {
        lines.push(`${relPath}/ ${mode} ${stats.uid}:${stats.gid}`);
        walk(path, relPath);
      } else if (stats.isSymbolicLink()) lines.push(`${head} -> ${readlinkSync(path)}`);
      else if (stats.isFile()) lines.push(`${head} ${JSON.stringify(readFileSync(path, 'utf8'))}`);
      else lines.push(`${head} special`);
    }
  };
  walk(root, '');
  return lines;
}

/** The regular files below `root`, for scanning a whole tree's bytes; entries that vanish while it walks are skipped. */
export function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (!stats) return [];
    return stats.isDirectory() ? filesUnder(path) : stats.isFile() ? [path] : [];
  });
}
