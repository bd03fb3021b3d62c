// Extracting a layer into a directory (a snapshot), safely: every entry's parent is resolved
// inside the root (safe-path.ts), the final component is never followed, files are created
// with O_EXCL|O_NOFOLLOW and their metadata set through the open handle. Work that must come
// last is deferred: extended attributes (chown and writes clear security.capability) and
// directory mtimes (creating children changes them), each re-checked before it is applied.
// The diffID is computed over the uncompressed stream as it is read; the caller verifies it.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { link, lchown, lutimes, mkdir, open, readdir, rm, statfs, symlink, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LayerError } from '../errors.js';
import { DigestingStream, type Digest } from '../lib/digest.js';
import { decompressedStream } from './compress.js';
import { cleanEntryName, lstatOrNull, resolveDirInRoot } from './safe-path.js';
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
  try {
    for await (const { entry, body, offset } of readTar(digester)) await extraction.apply(entry, body, offset);
    await extraction.finish();
  } catch (error) {
    input.destroy();
    stream.destroy();
    throw error instanceof LayerError ? error : asLayerError(error);
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

function asLayerError(error: unknown): LayerError {
  const errno = error as NodeJS.ErrnoException;
  if (errno.code === 'ENOSPC' || errno.code === 'EDQUOT') {
    return new LayerError('E_LAYER_NO_SPACE', `no space left while extracting a layer: ${errno.message}`, { cause: error });
  }
  if (errno.code === 'ENAMETOOLONG') {
    return new LayerError('E_LAYER_UNSUPPORTED', `a path in the layer is too long for this system: ${errno.message}`, { cause: error });
  }
  return new LayerError('E_LAYER_EXTRACT', `extracting a layer failed: ${errno.message ?? String(error)}`, { cause: error });
}

class Extraction {
  private bytes = 0;
  private entries = 0;
  /** Resolved parent directories, by relative path; cleared whenever anything is removed. */
  private parents = new Map<string, string>();
  /** Directory mtimes to set at the end, deepest last in insertion order. */
  private readonly dirTimes = new Map<string, { components: string[]; mtime: number }>();
  private readonly xattrs = new Map<string, { components: string[]; xattrs: Xattrs }>();
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
    const parent = await this.parent(parentComponents);
    if (name.startsWith(WHITEOUT_PREFIX)) return this.applyWhiteout(parent, parentComponents, name, offset);
    const target = join(parent, name);
    if (!(await this.clearTarget(target, entry))) return;
    await this.create(target, entry, body, offset);
    if (this.whiteouts === 'apply') this.created.add(target);
    if (entry.type === 'directory') this.dirTimes.set(target, { components, mtime: entry.mtime });
    if (entry.xattrs) this.xattrs.set(target, { components, xattrs: entry.xattrs });
  }

  /** Applies the deferred work: extended attributes, then directory mtimes. */
  async finish(): Promise<void> {
    const targets: [string, Xattrs][] = [];
    for (const [target, { components, xattrs }] of this.xattrs) {
      if ((await this.stillAt(target, components)) !== null) targets.push([target, xattrs]);
    }
    // Sorted so that setfattr sees the same input for the same layer.
    targets.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (targets.length > 0) await applyXattrs(targets);
    const dirs = [...this.dirTimes].sort(([a], [b]) => b.length - a.length);
    for (const [target, { components, mtime }] of dirs) {
      if ((await this.stillAt(target, components))?.isDirectory()) await lutimes(target, mtime, mtime);
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

  private async parent(components: string[]): Promise<string> {
    const key = components.join('/');
    const cached = this.parents.get(key);
    if (cached !== undefined) return cached;
    const resolved = (await resolveDirInRoot(this.root, components, { create: true }))!;
    this.parents.set(key, resolved);
    return resolved;
  }

  /** What is at `target` if `components` still resolve to it with no symlink on the way. */
  private async stillAt(target: string, components: string[]) {
    const parent = await resolveDirInRoot(this.root, components.slice(0, -1), { create: false });
    if (parent === undefined || join(parent, components[components.length - 1] ?? '.') !== target) return null;
    return lstatOrNull(target);
  }

  private async applyRoot(entry: TarEntry, offset: number): Promise<void> {
    if (entry.type !== 'directory') {
      throw new LayerError('E_LAYER_UNSAFE_PATH', `tar entry at byte ${offset} names the layer root but is not a directory`);
    }
    await this.setDirMeta(this.root, entry);
    this.dirTimes.set(this.root, { components: [], mtime: entry.mtime });
  }

  /** Removes what stands at `target` unless it can stay; false when the entry is a no-op. */
  private async clearTarget(target: string, entry: TarEntry): Promise<boolean> {
    const existing = await lstatOrNull(target);
    if (existing === null) return true;
    if (existing.isDirectory() && entry.type === 'directory') return true;
    if (entry.type === 'link' && (await this.linkSource(entry)) === target) return false;
    await this.remove(target);
    return true;
  }

  private async remove(target: string): Promise<void> {
    this.parents.clear();
    await rm(target, { recursive: true, force: true });
  }

  private async create(target: string, entry: TarEntry, body: AsyncIterable<Buffer>, offset: number): Promise<void> {
    switch (entry.type) {
      case 'directory':
        await mkdir(target, { mode: 0o700 }).catch(ignoreExists);
        return this.setDirMeta(target, entry);
      case 'file':
        return this.writeFile(target, entry, body);
      case 'symlink':
        await symlink(entry.linkname!, target);
        if (this.asRoot) await lchown(target, entry.uid, entry.gid);
        return lutimes(target, entry.mtime, entry.mtime);
      case 'link': {
        const source = await this.linkSource(entry);
        if (source === undefined) {
          throw new LayerError('E_LAYER_UNSAFE_PATH', `hardlink at byte ${offset} points to ${JSON.stringify(entry.linkname)}, which is not an earlier file of the layer`);
        }
        return link(source, target);
      }
      case 'char':
      case 'block':
      case 'fifo':
        await mknod(target, entry, offset, this.asRoot);
        if (this.asRoot) await lchown(target, entry.uid, entry.gid);
        // Just created by mknod, so the final component is this node, not a symlink.
        await chmod(target, entry.mode);
        return lutimes(target, entry.mtime, entry.mtime);
    }
  }

  private async writeFile(target: string, entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(target, flags, 0o600);
    try {
      for await (const chunk of body) await handle.write(chunk);
      if (this.asRoot) await handle.chown(entry.uid, entry.gid);
      await handle.chmod(entry.mode);
      await handle.utimes(entry.mtime, entry.mtime);
    } finally {
      await handle.close();
    }
  }

  private async setDirMeta(dir: string, entry: TarEntry): Promise<void> {
    const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      if (this.asRoot) await handle.chown(entry.uid, entry.gid);
      await handle.chmod(entry.mode);
    } finally {
      await handle.close();
    }
  }

  /** The host path a hardlink's target names inside the root, if it exists and is not a directory. */
  private async linkSource(entry: TarEntry): Promise<string | undefined> {
    const components = cleanEntryName(entry.linkname!, `hardlink target of ${JSON.stringify(entry.path)}`);
    if (components.length === 0) return undefined;
    const parent = await resolveDirInRoot(this.root, components.slice(0, -1), { create: false });
    if (parent === undefined) return undefined;
    const source = join(parent, components[components.length - 1]!);
    const stats = await lstatOrNull(source);
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
    if ((await lstatOrNull(target)) !== null) await this.remove(target);
    if (this.whiteouts === 'overlay') {
      await mknod(target, { type: 'char', devmajor: 0, devminor: 0, mode: 0, path: hidden }, offset, true);
    }
  }

  private async applyOpaque(dir: string, components: string[]): Promise<void> {
    if (this.whiteouts === 'overlay') {
      this.xattrs.set(dir, { components: [...components, '.'], xattrs: new Map([[OPAQUE_XATTR, Buffer.from('y')]]) });
      return;
    }
    for (const child of await readdir(dir)) {
      const path = join(dir, child);
      if (!this.created.has(path)) await this.remove(path);
    }
  }
}

function ignoreExists(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EEXIST') throw error;
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
