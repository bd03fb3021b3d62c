// Test helpers for layer tests: temp dirs, a snapshot of a tree's metadata for comparisons,
// and running layers through writeLayer/extractLayer in memory.

import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { writeLayer, type WriteLayerOptions } from '../../src/layer/index.js';

const made: string[] = [];

/** A temp directory removed after the current test. */
export function tempDir(prefix = 'tsbuild-layer-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(() => {
  // GNU rm, not fs.rmSync: Node's recursive removal recurses in JS and overflows on deep trees.
  for (const dir of made.splice(0)) execFileSync('rm', ['-rf', '--one-file-system', dir]);
});

export function sh(script: string, cwd?: string): string {
  return execFileSync('sh', ['-ec', script], { cwd, encoding: 'utf8' });
}

/** Every path of a tree with the metadata a layer carries, for equality checks. */
export function describeTree(root: string, options: { mtimes?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const xattrs = xattrDump(root);
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    const abs = rel === '' ? root : join(root, rel);
    for (const name of readdirSync(abs).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, path);
      const st = lstatSync(full);
      let what = `${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (options.mtimes !== false && !st.isSymbolicLink()) what += ` t=${Math.floor(st.mtimeMs / 1000)}`;
      if (st.isFile()) {
        const first = st.nlink > 1 ? inodes.get(st.ino) : undefined;
        if (st.nlink > 1 && first === undefined) inodes.set(st.ino, path);
        what += first ? ` link=${first}` : ` data=${readFileSync(full).toString('base64').slice(0, 40)}:${st.size}`;
      }
      if (st.isSymbolicLink()) what += ` -> ${readlinkSync(full)}`;
      if (st.isCharacterDevice() || st.isBlockDevice()) what += ` rdev=${st.rdev}`;
      const x = xattrs.get(full);
      if (x) what += ` xattrs=${x}`;
      out[path] = what;
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

function xattrDump(root: string): Map<string, string> {
  // Read as latin1, one character a byte: getfattr prints UTF-8 raw and escapes only some bytes.
  const text = execFileSync('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root], { encoding: 'latin1' });
  const map = new Map<string, string>();
  for (const block of text.split('\n\n')) {
    const lines = block.trim().split('\n');
    if (!lines[0]?.startsWith('# file: ')) continue;
    map.set(unquote(lines[0].slice(8)), lines.slice(1).sort().join(','));
  }
  return map;
}

/** getfattr's quoting of names (`\ooo` octal bytes, `\\`), from latin1 text to the UTF-8 name. */
function unquote(text: string): string {
  const bytes = Buffer.from(text.replace(/\\([0-7]{3})|\\\\/g, (match, octal?: string) => (octal ? String.fromCharCode(parseInt(octal, 8)) : '\\')), 'latin1');
  return bytes.toString('utf8');
}

/** writeLayer into memory. */
export async function layerBytes(dir: string, options: Partial<WriteLayerOptions> = {}) {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const result = await writeLayer(dir, sink, { sourceDateEpoch: 1_700_000_000, kind: 'directory', ...options });
  return { ...result, bytes: Buffer.concat(chunks) };
}

export function streamOf(bytes: Buffer): Readable {
  const stream = new PassThrough();
  stream.end(bytes);
  return stream;
}

/** `tar -tv` listing by GNU tar, an independent reader. */
export function gnuTarList(bytes: Buffer): string[] {
  return execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: bytes, encoding: 'utf8' }).trim().split('\n');
}
