// File-level comparison of two layers (or two flattened file systems): which paths were added,
// removed or changed, with mode/owner/size/content differences and a unified diff for small
// text files. Replay's divergence report and `tsbuild diff` both print this.

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { readTar } from '../layer/tar-reader.js';
import { unifiedDiff } from './text-diff.js';

/** Small files are kept as text for diffs; larger ones only by digest. */
const TEXT_LIMIT = 64 * 1024;

export interface FileEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  digest?: string;
  linkTarget?: string;
  /** Content of a small file that looks like text (no NUL byte). */
  text?: string;
}

export interface FileChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  /** Human-readable differences: `mode 0644 → 0755`, `size 10 → 12`, `content`. */
  details: string[];
  before?: FileEntry;
  after?: FileEntry;
  /** For small text files whose content changed. */
  unifiedDiff?: string;
}

function normalisePath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return '/' + parts.join('/');
}

/** Reads a layer tar stream into entries keyed by path (later duplicates win, as on extraction). */
export async function readLayerEntries(layer: Readable): Promise<Map<string, FileEntry>> {
  const entries = new Map<string, FileEntry>();
  for await (const { entry, body } of readTar(layer)) {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let kept = 0;
    for await (const chunk of body) {
      hash.update(chunk);
      if (kept <= TEXT_LIMIT) chunks.push(chunk), (kept += chunk.length);
    }
    const path = normalisePath(entry.path);
    const content = entry.size <= TEXT_LIMIT ? Buffer.concat(chunks) : undefined;
    entries.set(path, {
      path,
      type: entry.type,
      mode: entry.mode & 0o7777,
      uid: entry.uid,
      gid: entry.gid,
      size: entry.size,
      digest: entry.type === 'file' ? `sha256:${hash.digest('hex')}` : undefined,
      linkTarget: entry.linkname,
      text: content && !content.includes(0) ? content.toString('utf8') : undefined,
    });
  }
  return entries;
}

const octal = (mode: number) => '0' + mode.toString(8).padStart(3, '0');

function describeChange(before: FileEntry, after: FileEntry): string[] {
  const details: string[] = [];
  if (before.type !== after.type) details.push(`type ${before.type} → ${after.type}`);
  if (before.mode !== after.mode) details.push(`mode ${octal(before.mode)} → ${octal(after.mode)}`);
  if (before.uid !== after.uid || before.gid !== after.gid) {
    details.push(`owner ${before.uid}:${before.gid} → ${after.uid}:${after.gid}`);
  }
  if (before.size !== after.size) details.push(`size ${before.size} → ${after.size}`);
  if (before.linkTarget !== after.linkTarget) details.push(`link ${before.linkTarget ?? '-'} → ${after.linkTarget ?? '-'}`);
  if (before.digest !== after.digest && before.size === after.size) details.push('content');
  return details;
}

/** Changes that turn `before` into `after`, sorted by path. */
export function diffEntries(before: Map<string, FileEntry>, after: Map<string, FileEntry>): FileChange[] {
  const changes: FileChange[] = [];
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const path of paths) {
    const a = before.get(path);
    const b = after.get(path);
    if (!a) changes.push({ path, kind: 'added', details: [], after: b });
    else if (!b) changes.push({ path, kind: 'removed', details: [], before: a });
    else {
      const details = describeChange(a, b);
      if (details.length === 0) continue;
      const change: FileChange = { path, kind: 'changed', details, before: a, after: b };
      if (a.digest !== b.digest && a.text !== undefined && b.text !== undefined) {
        change.unifiedDiff = unifiedDiff(a.text, b.text, path);
      }
      changes.push(change);
    }
  }
  return changes;
}

function summarise(entry: FileEntry): string {
  return `${entry.type} ${octal(entry.mode)} ${entry.uid}:${entry.gid} ${entry.size}`;
}

/** The text report: one line per path (`+` added, `-` removed, `~` changed), then text diffs. */
export function formatChanges(changes: FileChange[]): string {
  if (changes.length === 0) return 'no file differences\n';
  const lines: string[] = [];
  for (const change of changes) {
    if (change.kind === 'added') lines.push(`+ ${change.path} (${summarise(change.after!)})`);
    else if (change.kind === 'removed') lines.push(`- ${change.path} (${summarise(change.before!)})`);
    else lines.push(`~ ${change.path}: ${change.details.join(', ')}`);
  }
  for (const change of changes) if (change.unifiedDiff) lines.push('', change.unifiedDiff.trimEnd());
  return lines.join('\n') + '\n';
}

/** The file system a stack of layers makes (bottom first, over `below`), with OCI whiteouts applied. */
export async function flattenLayers(layers: Array<() => Readable>, below?: ReadonlyMap<string, FileEntry>): Promise<Map<string, FileEntry>> {
  const files = new Map<string, FileEntry>(below);
  const removeUnder = (dir: string, includeSelf: boolean) => {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    for (const path of [...files.keys()]) if ((includeSelf && path === dir) || path.startsWith(prefix)) files.delete(path);
  };
  for (const open of layers) {
    const entries = await readLayerEntries(open());
    // Whiteouts hide what the layers below had: apply them before this layer's own entries.
    for (const path of entries.keys()) {
      const slash = path.lastIndexOf('/');
      const parent = path.slice(0, slash) || '/';
      const name = path.slice(slash + 1);
      if (name === '.wh..wh..opq') removeUnder(parent, false);
      else if (name.startsWith('.wh.')) removeUnder(`${parent === '/' ? '' : parent}/${name.slice(4)}`, true);
    }
    for (const [path, entry] of entries) {
      if (path.slice(path.lastIndexOf('/') + 1).startsWith('.wh.')) continue;
      if (entry.type !== 'directory') removeUnder(path, false);
      files.set(path, entry);
    }
  }
  return files;
}
