// Extended attributes. Node has no xattr API, so tsbuild uses Debian's `attr` tools, once per
// layer rather than once per file: `getfattr -R --dump` lists every attribute of a tree in one
// process, and `setfattr --restore` applies a dump in one process. Both are told not to follow
// symlinks (-P/-h). Names in the dump format are octal-escaped; values are written in hex.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LayerError } from '../errors.js';

export type Xattrs = Map<string, Buffer>;

/** Every extended attribute under `dir` (recursively, symlinks not followed), by absolute path. */
export async function readTreeXattrs(dir: string): Promise<Map<string, Xattrs>> {
  const child = spawn('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = new Map<string, Xattrs>();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (error) => reject(attrToolMissing('getfattr', error)));
    child.on('close', (code) => resolve(code ?? 1));
  });
  let current: Xattrs | undefined;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      result.set(unescapeName(line.slice('# file: '.length)), current);
    } else if (line !== '' && current) {
      const equals = line.indexOf('=');
      if (equals === -1) current.set(unescapeName(line), Buffer.alloc(0));
      else current.set(unescapeName(line.slice(0, equals)), parseValue(line.slice(equals + 1)));
    }
  }
  const code = await exited;
  if (code !== 0) throw new LayerError('E_LAYER_XATTR', `reading extended attributes under ${dir} failed: ${tail(stderr)}`);
  return result;
}

/**
 * Sets attributes on many paths with one `setfattr --restore`; paths are not dereferenced.
 * Attributes the file system or the privileges at hand do not allow (ENOTSUP, EPERM) are
 * skipped, as moby does, and returned as warnings; any other failure is an error.
 */
export async function applyXattrs(targets: Iterable<[string, Xattrs]>): Promise<string[]> {
  const child = spawn('setfattr', ['-h', '--restore=-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (error) => reject(attrToolMissing('setfattr', error)));
    child.on('close', (code) => resolve(code ?? 1));
  });
  child.stdin.on('error', () => {
    // setfattr exited early; its status and stderr say why.
  });
  for (const [path, xattrs] of targets) {
    const lines = [`# file: ${escapeName(path)}`];
    for (const [name, value] of xattrs) lines.push(`${escapeName(name)}=0x${value.toString('hex')}`);
    if (!child.stdin.write(`${lines.join('\n')}\n\n`)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  const code = await exited;
  if (code === 0) return [];
  const failures = stderr.trim().split('\n');
  if (!failures.every((line) => TOLERATED.test(line))) {
    throw new LayerError('E_LAYER_XATTR', `setting extended attributes failed: ${tail(stderr)}`);
  }
  return failures.map((line) => `extended attributes not set: ${line.replace(/^setfattr: /, '')}`);
}

const TOLERATED = /^setfattr: .*: (Operation not supported|Operation not permitted)$/;

/** The end of a tool's stderr: the reason, without kilobytes of deep paths before it. */
function tail(stderr: string): string {
  const text = stderr.trim();
  return text.length > 400 ? `…${text.slice(-400)}` : text;
}

function attrToolMissing(tool: string, cause: unknown): LayerError {
  return new LayerError('E_LAYER_XATTR', `cannot run ${tool}`, { hint: "install Debian's attr package (scripts/setup.sh does)", cause });
}

/** Octal-escapes every byte outside a safe set, which setfattr's restore turns back. */
function escapeName(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const safe = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || '/._-+,:@'.includes(String.fromCharCode(byte));
    out += safe ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** Reverses getfattr's quoting: `\ooo` octal bytes and `\\`. */
function unescapeName(text: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.toString('latin1', i + 1, i + 4))) {
      bytes.push(parseInt(raw.toString('latin1', i + 1, i + 4), 8));
      i += 3;
    } else if (raw[i] === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else {
      bytes.push(raw[i]!);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseValue(text: string): Buffer {
  if (text.startsWith('0x')) return Buffer.from(text.slice(2), 'hex');
  if (text.startsWith('0s')) return Buffer.from(text.slice(2), 'base64');
  if (text.startsWith('"') && text.endsWith('"')) return Buffer.from(unescapeName(text.slice(1, -1)), 'utf8');
  return Buffer.from(text, 'utf8');
}
