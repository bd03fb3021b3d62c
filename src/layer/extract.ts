// Extracting a layer into a directory (a snapshot), safely: every entry's parent is resolved
// inside the root (safe-path.ts), the final component is never followed, files are created
// with O_EXCL|O_NOFOLLOW and their metadata set through the open handle. Work that must come
// last is deferred: extended attributes (chown and writes clear security.capability) and
// directory mtimes (creating children changes them), each re-checked before it is applied.
// The diffID is computed over the uncompressed stream as it is read; the caller verifies it.
// File-system calls are synchronous: see safe-path.ts for the measurement.

import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LayerError } from '../errors.js';
import { DigestingStream, type Digest } from '../lib/digest.js';
import { decompressedStream } from './compress.js';
import { removeTree } from './remove-tree.js';
import { cleanEntryName, DirectPathChecker, lstatOrNull, resolveDirInRoot } from './safe-path.js';
import type { TarEntry } from './tar-header.js';
import { readTar } from './tar-reader.js';
import { applyXattrs, type Xattrs } from './xattr.js';

export interface ExtractLayerOptions {
  /** The descriptor's media type, for messages; the format is detected from the bytes. */
  mediaType?: string;
  /**
   * `overlay`: OCI whiteouts become overlayfs whiteouts (0/0 character devices, and
   * `trusted.overlay.opaque=y` on opaque directories): the result is an overlay lowerdir.
   * `apply`: whiteouts delete what they name from `dest`, which holds the layers below.
   */
  whiteouts: 'overlay' | 'apply';
  /** Refuse the layer once its file data would exceed this many bytes (default: the free space of dest's filesystem). */
  maxBytes?: number;
  /** Refuse the layer once it would create more than this many inodes (default: free inodes of dest's filesystem). */
  maxEntries?: number;
}

export interface ExtractLayerResult {
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** Size of the uncompressed tar. */
  size: number;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const OPAQUE_XATTR = 'trusted.overlay.opaque';
/** Free space left alone so a layer cannot fill the disk to the last byte. */
const SPACE_RESERVE = 64 << 20;

/** Unpacks a tar, gzip or zstd layer into `dest` (an existing directory). On error, `dest` is the caller's to remove. */
export async function extractLayer(input: Readable, dest: string, options: ExtractLayerOptions): Promise<ExtractLayerResult> {
  const limits = await defaultLimits(dest, options);
  let stream: Readable;
  try {
    ({ stream } = await decompressedStream(input));
  } catch (error) {
    input.destroy();
    throw error;
  }
  const digester = new DigestingStream();
  stream.on('error', (error) => digester.destroy(decompressionError(error, options.mediaType)));
  stream.pipe(digester);
  const extraction = new Extraction(dest, options.whiteouts, limits);
  let current: { path: string; offset: number } | undefined;
  try {
    for await (const { entry, body, offset } of readTar(digester)) {
      current = { path: entry.path, offset };
      await extraction.apply(entry, body, offset);
    }
    current = undefined;
    await extraction.finish();
  } catch (error) {
    input.destroy();
    stream.destroy();
    throw error instanceof LayerError ? error : asLayerError(error, current);
  }
  return { diffId: digester.digest(), size: digester.size };
}

async function defaultLimits(dest: string, options: ExtractLayerOptions): Promise<{ bytes: number; entries: number }> {
  const fs = await statfs(dest).catch((cause: unknown) => {
    throw new LayerError('E_LAYER_DEST', `cannot extract into ${dest}`, { cause });
  });
  return {
    bytes: options.maxBytes ?? Math.max(0, fs.bavail * fs.bsize - SPACE_RESERVE),
    entries: options.maxEntries ?? (fs.files === 0 ? Number.MAX_SAFE_INTEGER : fs.ffree),
  };
}

function decompressionError(error: Error, mediaType: string | undefined): LayerError {
  if (error instanceof LayerError) return error;
  return new LayerError('E_LAYER_CORRUPT', `layer${mediaType ? ` (${mediaType})` : ''} does not decompress: ${error.message}`, {
    cause: error,
  });
}

function asLayerError(error: unknown, at: { path: string; offset: number } | undefined): LayerError {
  const errno = error as NodeJS.ErrnoException;
  const path = at && at.path.length > 120 ? `${at.path.slice(0, 60)}…${at.path.slice(-60)}` : at?.path;
  const where = at ? `entry ${JSON.stringify(path)} at byte ${at.offset}` : 'finishing the layer';
  if (errno.code === 'ENOSPC' || errno.code === 'EDQUOT') {
    return new LayerError('E_LAYER_NO_SPACE', `no space left on the device extracting ${where}`, { cause: error });
  }
  if (errno.code === 'ENAMETOOLONG') {
    return new LayerError('E_LAYER_UNSUPPORTED', `${where}: path too long for this system (PATH_MAX)`, { cause: error });
  }
  return new LayerError('E_LAYER_EXTRACT', `extracting ${where} failed: ${errno.code ?? ''} ${errno.message ?? String(error)}`.trim(), {
    cause: error,
  });
}

class Extraction {
  private bytes = 0;
  private entries = 0;
  /** Resolved parent directories, by relative path; cleared whenever anything is removed. */
  private parents = new Map<string, string>();
  /** Directory mtimes and extended attributes to set at the end, by host path. */
  private readonly dirTimes = new Map<string, number>();
  private readonly xattrs = new Map<string, Xattrs>();
  /** Paths this layer created (`apply` mode): an opaque marker keeps them. */
  private readonly created = new Set<string>();
  private readonly asRoot = process.getuid?.() === 0;

  private readonly root: string;
  private readonly whiteouts: 'overlay' | 'apply';
  private readonly limits: { bytes: number; entries: number };

  constructor(root: string, whiteouts: 'overlay' | 'apply', limits: { bytes: number; entries: number }) {
    this.root = root;
    this.whiteouts = whiteouts;
    this.limits = limits;
  }

  async apply(entry: TarEntry, body: AsyncIterable<Buffer>, offset: number): Promise<void> {
    const components = cleanEntryName(entry.path, `tar entry at byte ${offset}`);
    this.countEntry(entry, offset);
    if (components.length === 0) return this.applyRoot(entry, offset);
    const name = components[components.length - 1]!;
    const parentComponents = components.slice(0, -1);
    const parent = this.parent(parentComponents);
    if (name.startsWith(WHITEOUT_PREFIX)) return this.applyWhiteout(parent, parentComponents, name, offset);
    const target = join(parent, name);
    const state = this.clearTarget(target, entry);
    if (state === 'skip') return;
    // A fresh object gets no attributes left over from what stood there before.
    if (state === 'fresh') this.xattrs.delete(target);
    await this.create(target, entry, body, offset);
    if (this.whiteouts === 'apply') this.created.add(target);
    if (entry.type === 'directory') {
      this.dirTimes.set(target, entry.mtime);
      this.parents.set(components.join('/'), target);
    }
    if (entry.xattrs) this.xattrs.set(target, new Map([...(this.xattrs.get(target) ?? []), ...entry.xattrs]));
  }

  /** Applies the deferred work: extended attributes, then directory mtimes. */
  async finish(): Promise<void> {
    // Nothing is applied through a symlink that a later entry put on the way.
    const checker = new DirectPathChecker(this.root);
    const targets = [...this.xattrs].filter(([target]) => checker.check(target) !== null);
    // Sorted so that setfattr sees the same input for the same layer.
    targets.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (targets.length > 0) await applyXattrs(targets);
    const dirs = [...this.dirTimes].sort(([a], [b]) => b.length - a.length);
    for (const [target, mtime] of dirs) {
      if (checker.check(target)?.isDirectory()) lutimesSync(target, mtime, mtime);
    }
  }

  private countEntry(entry: TarEntry, offset: number): void {
    this.entries += 1;
    if (this.entries > this.limits.entries) {
      throw new LayerError('E_LAYER_NO_SPACE', `layer has more entries than the ${this.limits.entries} inodes available (at byte ${offset})`);
    }
    if (entry.type !== 'file') return;
    this.bytes += entry.size;
    if (this.bytes > this.limits.bytes) {
      throw new LayerError(
        'E_LAYER_NO_SPACE',
        `layer needs more than the ${this.limits.bytes} bytes available for it (entry ${JSON.stringify(entry.path)} at byte ${offset} alone is ${entry.size} bytes)`,
        { hint: 'free disk space, or the layer is a decompression bomb' },
      );
    }
  }

  private parent(components: string[]): string {
    const key = components.join('/');
    const cached = this.parents.get(key);
    if (cached !== undefined) return cached;
    const resolved = (resolveDirInRoot(this.root, components, { create: true }))!;
    this.parents.set(key, resolved);
    return resolved;
  }

  private applyRoot(entry: TarEntry, offset: number): void {
    if (entry.type !== 'directory') {
      throw new LayerError('E_LAYER_UNSAFE_PATH', `tar entry at byte ${offset} names the layer root but is not a directory`);
    }
    this.setDirMeta(this.root, entry);
    this.dirTimes.set(this.root, entry.mtime);
  }

  /** Removes what stands at `target` unless it can stay (a directory over a directory) or the entry is a no-op. */
  private clearTarget(target: string, entry: TarEntry): 'fresh' | 'kept' | 'skip' {
    const existing = lstatOrNull(target);
    if (existing === null) return 'fresh';
    if (existing.isDirectory() && entry.type === 'directory') return 'kept';
    if (entry.type === 'link' && this.linkSource(entry) === target) return 'skip';
    this.remove(target, existing.isDirectory());
    return 'fresh';
  }

  private remove(target: string, isDirectory: boolean): void {
    // A removed symlink or directory may be on the way to a cached parent.
    this.parents.clear();
    if (isDirectory) removeTree(target);
    else unlinkSync(target);
  }

  private async create(target: string, entry: TarEntry, body: AsyncIterable<Buffer>, offset: number): Promise<void> {
    switch (entry.type) {
      case 'directory':
        if (!lstatOrNull(target)) mkdirSync(target, { mode: 0o700 });
        return this.setDirMeta(target, entry);
      case 'file':
        return this.writeFile(target, entry, body);
      case 'symlink':
        symlinkSync(entry.linkname!, target);
        if (this.asRoot) lchownSync(target, entry.uid, entry.gid);
        return lutimesSync(target, entry.mtime, entry.mtime);
      case 'link': {
        const source = this.linkSource(entry);
        if (source === undefined) {
          throw new LayerError('E_LAYER_UNSAFE_PATH', `hardlink at byte ${offset} points to ${JSON.stringify(entry.linkname)}, which is not an earlier file of the layer`);
        }
        return linkSync(source, target);
      }
      case 'char':
      case 'block':
      case 'fifo':
        await mknod(target, entry, offset, this.asRoot);
        if (this.asRoot) lchownSync(target, entry.uid, entry.gid);
        // Just created by mknod, so the final component is this node, not a symlink.
        chmodSync(target, entry.mode);
        return lutimesSync(target, entry.mtime, entry.mtime);
    }
  }

  private async writeFile(target: string, entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fd = openSync(target, flags, 0o600);
    try {
      for await (const chunk of body) writeAll(fd, chunk);
      if (this.asRoot) fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode);
      futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private setDirMeta(dir: string, entry: TarEntry): void {
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      if (this.asRoot) fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode);
    } finally {
      closeSync(fd);
    }
  }

  /** The host path a hardlink's target names inside the root, if it exists and is not a directory. */
  private linkSource(entry: TarEntry): string | undefined {
    const components = cleanEntryName(entry.linkname!, `hardlink target of ${JSON.stringify(entry.path)}`);
    if (components.length === 0) return undefined;
    const parent = resolveDirInRoot(this.root, components.slice(0, -1), { create: false });
    if (parent === undefined) return undefined;
    const source = join(parent, components[components.length - 1]!);
    const stats = lstatOrNull(source);
    return stats === null || stats.isDirectory() ? undefined : source;
  }

  private async applyWhiteout(parent: string, parentComponents: string[], name: string, offset: number): Promise<void> {
    if (name === OPAQUE_MARKER) return this.applyOpaque(parent, parentComponents);
    // Other `.wh..wh.` names are aufs bookkeeping (hardlink dirs), meaningless here.
    if (name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw new LayerError('E_LAYER_UNSAFE_PATH', `whiteout at byte ${offset} names ${JSON.stringify(hidden)}, which is not a file name`);
    }
    const target = join(parent, hidden);
    const existing = lstatOrNull(target);
    if (existing !== null) this.remove(target, existing.isDirectory());
    if (this.whiteouts === 'overlay') {
      await mknod(target, { type: 'char', devmajor: 0, devminor: 0, mode: 0, path: hidden }, offset, true);
    }
  }

  private applyOpaque(dir: string, components: string[]): void {
    if (this.whiteouts === 'overlay') {
      this.xattrs.set(dir, new Map([...(this.xattrs.get(dir) ?? []), [OPAQUE_XATTR, Buffer.from('y')]]));
      return;
    }
    for (const child of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, child.name);
      if (!this.created.has(path)) this.remove(path, child.isDirectory());
    }
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let written = 0; written < chunk.length; ) written += writeSync(fd, chunk, written);
}

/** Device nodes and fifos: Node has no mknod(2), and they are rare, so the mknod command. */
async function mknod(target: string, entry: Pick<TarEntry, 'type' | 'devmajor' | 'devminor' | 'mode' | 'path'>, offset: number, asRoot: boolean): Promise<void> {
  if (entry.type !== 'fifo' && !asRoot) {
    throw new LayerError('E_LAYER_PRIVILEGE', `device node ${JSON.stringify(entry.path)} (at byte ${offset}) can only be created as root`);
  }
  const args = entry.type === 'fifo' ? [target, 'p'] : [target, entry.type === 'char' ? 'c' : 'b', String(entry.devmajor), String(entry.devminor)];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mknod', ['-m', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new LayerError('E_LAYER_EXTRACT', `creating ${entry.type} node ${JSON.stringify(entry.path)} failed: ${stderr.trim()}`));
    });
  });
}
