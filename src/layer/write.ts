// Writing a layer: a deterministic tar of a directory, streamed. Entries come in a depth-first
// walk with the children of each directory sorted bytewise (UTF-8) — the order of Go's
// filepath.Walk, which BuildKit and containerd write — so the same tree always gives the same
// bytes, parents precede children, and memory holds only the names of the directories on the
// current path (a global sort by full path would hold every path). A hardlinked inode's data
// goes with its first path in that order, later paths become link entries. mtimes are clamped
// to SOURCE_DATE_EPOCH (and to 0 from below); no atime, ctime, uname or gname is written.
// The diffID (and, when compressing, the blob digest) is computed in the same pass.
// File-system calls are synchronous: a thread-pool round trip per call halved throughput
// (measured with bench/layer-write.js).

import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CancelledError, LayerError } from '../errors.js';
import { DigestingStream, type Digest } from '../lib/digest.js';
import { compressor, type Compression } from './compress.js';
import { MediaType } from './oci.js';
import { encodeHeader, endOfArchive, padding, type TarEntry } from './tar-header.js';
import { readTreeXattrs, type Xattrs } from './xattr.js';

export interface WriteLayerOptions {
  /** Every mtime later than this (seconds since the epoch) is clamped to it. */
  sourceDateEpoch: number;
  /**
   * `directory`: the tree as it is. `overlay-upper`: an overlayfs upper dir, whose whiteouts
   * (0/0 character devices) become `.wh.<name>` entries and whose opaque directories
   * (`trusted.overlay.opaque=y`) get a `.wh..wh..opq` entry. In both kinds `trusted.overlay.*`
   * attributes are dropped: they are overlayfs bookkeeping, not content.
   */
  kind: 'directory' | 'overlay-upper';
  /** Host owner that stands for root in the image: its files are recorded as uid/gid 0. */
  rootOwner?: { uid: number; gid: number };
  compression?: Compression;
  compressionLevel?: number;
  /** Stops the walk and destroys `out`; the promise rejects with a CancelledError. */
  signal?: AbortSignal;
  /**
   * Only these paths (relative, `a/b`) are written, and only the directories on the way to
   * them are walked: a build context after .dockerignore, without copying it first.
   */
  only?: ReadonlySet<string>;
}

export interface WriteLayerResult {
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** Size of the uncompressed tar. */
  size: number;
  /** The blob as written to `out` when compressed; absent for `compression: 'none'`. */
  compressed?: { digest: Digest; size: number; mediaType: string };
  /**
   * Directories of the tree (relative, `a/b`; `''` for the root) marked opaque
   * (`trusted.overlay.opaque=y`), as overlayfs would read them if the tree became a lower dir.
   */
  opaqueDirs: string[];
}

const OPAQUE_XATTR = 'trusted.overlay.opaque';
const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
/** Upper-dir entries that only make sense together with the lower layers (renamed dirs, metadata-only copies). */
const UNSUPPORTED_OVERLAY_XATTRS = ['trusted.overlay.redirect', 'trusted.overlay.metacopy'];
const CHUNK = 1 << 20;
const SMALL_FILE = 64 << 10;

/**
 * Streams a deterministic tar of `sourceDir` (its contents, not the directory itself) into
 * `out`, which is ended on success and destroyed on failure, and returns its digests.
 */
export async function writeLayer(sourceDir: string, out: Writable, options: WriteLayerOptions): Promise<WriteLayerResult> {
  try {
    return await streamLayer(resolve(sourceDir), out, options);
  } catch (error) {
    out.destroy();
    if (options.signal?.aborted) throw new CancelledError('writing the layer was cancelled');
    throw error;
  }
}

async function streamLayer(root: string, out: Writable, options: WriteLayerOptions): Promise<WriteLayerResult> {
  let rootStats: Stats;
  try {
    rootStats = lstatSync(root);
  } catch (cause) {
    throw new LayerError('E_LAYER_SOURCE', `cannot read layer source ${root}`, { cause });
  }
  if (!rootStats.isDirectory()) throw new LayerError('E_LAYER_SOURCE', `layer source ${root} is not a directory`);
  const compression = options.compression ?? 'none';
  const compress = compression === 'none' ? undefined : compressor(compression, options.compressionLevel);
  const xattrs = await readTreeXattrs(root);
  const diff = new DigestingStream();
  const blob = new DigestingStream();
  const tar = Readable.from(tarChunks(root, options, xattrs), { objectMode: false, highWaterMark: CHUNK });
  await pipeline(compress ? [tar, diff, compress, blob, out] : [tar, diff, out], { signal: options.signal });
  const result: WriteLayerResult = { diffId: diff.digest(), size: diff.size, opaqueDirs: opaqueDirsOf(root, xattrs) };
  if (compress) {
    const mediaType = compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd;
    result.compressed = { digest: blob.digest(), size: blob.size, mediaType };
  }
  return result;
}

function opaqueDirsOf(root: string, xattrs: Map<string, Xattrs>): string[] {
  const dirs: string[] = [];
  for (const [abs, attrs] of xattrs) if (attrs.get(OPAQUE_XATTR)?.toString() === 'y') dirs.push(relative(root, abs));
  return dirs.sort();
}

interface Frame {
  /** Root-relative path of the directory ('' for the root). */
  dir: string;
  names: string[];
}

interface WalkState {
  root: string;
  options: WriteLayerOptions;
  overlay: boolean;
  xattrs: Map<string, Xattrs>;
  /** dev:ino → first path, for files with more than one link. */
  hardlinks: Map<string, string>;
}

/** Every directory that holds one of `paths`, at any depth. */
function ancestorsOf(paths: ReadonlySet<string>): Set<string> {
  const dirs = new Set<string>();
  for (const path of paths) {
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) dirs.add(path.slice(0, slash));
  }
  return dirs;
}

async function* tarChunks(root: string, options: WriteLayerOptions, xattrs: Map<string, Xattrs>): AsyncGenerator<Buffer> {
  const state: WalkState = { root, options, overlay: options.kind === 'overlay-upper', xattrs, hardlinks: new Map() };
  const stack: Frame[] = [{ dir: '', names: sortedNames(root) }];
  const onTheWay = options.only && ancestorsOf(options.only);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const name = frame.names.pop();
    if (name === undefined) {
      stack.pop();
      continue;
    }
    const path = frame.dir === '' ? name : `${frame.dir}/${name}`;
    const abs = join(root, path);
    const selected = !options.only || options.only.has(path);
    if (!selected && !onTheWay?.has(path)) continue;
    try {
      const stats = lstatSync(abs);
      if (selected) yield* entryChunks(state, path, abs, stats);
      if (stats.isDirectory()) stack.push({ dir: path, names: sortedNames(abs) });
    } catch (error) {
      throw sourceError(abs, error);
    }
  }
  yield endOfArchive();
}

/** The tar bytes of one path (not of its children). */
async function* entryChunks(state: WalkState, path: string, abs: string, stats: Stats): AsyncGenerator<Buffer> {
  if (basename(path).startsWith('.wh.')) {
    throw new LayerError('E_LAYER_SOURCE', `${abs}: names starting with ".wh." are reserved for whiteouts in image layers`, {
      hint: 'rename the file; in a layer it would delete a file instead of adding one',
    });
  }
  const base = baseEntry(path, stats, state.options, xattrsFor(state.xattrs.get(abs), abs, state.overlay));
  if (state.overlay && stats.isCharacterDevice() && stats.rdev === 0) {
    yield encodeHeader({ ...base, type: 'file', path: siblingPath(path, `.wh.${basename(path)}`), size: 0, xattrs: undefined });
    return;
  }
  const firstPath = stats.nlink > 1 && !stats.isDirectory() ? hardlinkTarget(state.hardlinks, stats, path) : undefined;
  if (firstPath !== undefined) {
    yield encodeHeader({ ...base, type: 'link', linkname: firstPath, size: 0 });
  } else if (stats.isFile()) {
    yield* fileChunks(abs, { ...base, type: 'file', size: stats.size });
  } else if (stats.isDirectory()) {
    yield encodeHeader({ ...base, type: 'directory' });
    // Right after the directory, so that readers applying entries in order see it first.
    if (state.overlay && state.xattrs.get(abs)?.get(OPAQUE_XATTR)?.toString() === 'y') {
      yield encodeHeader({ ...base, type: 'file', path: `${path}/.wh..wh..opq`, size: 0, xattrs: undefined });
    }
  } else if (stats.isSymbolicLink()) {
    yield encodeHeader({ ...base, type: 'symlink', linkname: readlinkSync(abs) });
  } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    const type = stats.isCharacterDevice() ? 'char' : 'block';
    yield encodeHeader({ ...base, type, devmajor: major(stats.rdev), devminor: minor(stats.rdev) });
  } else if (stats.isFIFO()) {
    yield encodeHeader({ ...base, type: 'fifo' });
  }
  // Sockets are skipped: they cannot be carried in a layer.
}

function siblingPath(path: string, name: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? name : `${path.slice(0, slash)}/${name}`;
}

function sourceError(abs: string, error: unknown): LayerError {
  if (error instanceof LayerError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENAMETOOLONG' ? 'the path is too long for this system (PATH_MAX)' : String((error as Error).message ?? error);
  return new LayerError('E_LAYER_SOURCE', `cannot read ${abs.length > 200 ? `${abs.slice(0, 100)}…${abs.slice(-100)}` : abs} for the layer: ${why}`, {
    cause: error,
  });
}

/** Children of a directory, sorted bytewise descending so that pop() yields them in order. */
function sortedNames(dir: string): string[] {
  const names = readdirSync(dir);
  for (const name of names) {
    // readdir decodes invalid UTF-8 as U+FFFD; such a name could not be read back.
    if (name.includes('\uFFFD')) {
      throw new LayerError('E_LAYER_SOURCE', `${join(dir, name)}: file name is not UTF-8`, {
        hint: 'tsbuild handles UTF-8 file names only',
      });
    }
  }
  // UTF-16 order equals UTF-8 byte order unless surrogates or U+E000–U+FFFF are involved.
  if (!names.some((name) => /[\uD800-\uFFFF]/.test(name))) return names.sort().reverse();
  const keyed = names.map((name) => ({ name, bytes: Buffer.from(name, 'utf8') }));
  return keyed.sort((a, b) => Buffer.compare(b.bytes, a.bytes)).map((entry) => entry.name);
}

function baseEntry(path: string, stats: Stats, options: WriteLayerOptions, xattrs: Xattrs | undefined): Omit<TarEntry, 'type'> {
  const owner = options.rootOwner;
  return {
    path,
    mode: stats.mode & 0o7777,
    uid: owner && stats.uid === owner.uid ? 0 : stats.uid,
    gid: owner && stats.gid === owner.gid ? 0 : stats.gid,
    size: 0,
    mtime: Math.max(0, Math.min(Math.floor(stats.mtimeMs / 1000), options.sourceDateEpoch)),
    xattrs,
  };
}

/** The attributes a layer carries: overlayfs's own bookkeeping is never image content. */
function xattrsFor(all: Xattrs | undefined, abs: string, overlay: boolean): Xattrs | undefined {
  if (!all) return undefined;
  if (overlay) {
    for (const name of UNSUPPORTED_OVERLAY_XATTRS) {
      if (all.has(name)) {
        throw new LayerError('E_LAYER_SOURCE', `${abs} carries ${name}: the overlay upper dir is not a self-contained diff`, {
          hint: 'mount the overlay with redirect_dir=off,metacopy=off',
        });
      }
    }
  }
  const kept = new Map([...all].filter(([name]) => !name.startsWith(OVERLAY_XATTR_PREFIX)));
  return kept.size > 0 ? kept : undefined;
}

/** The first path seen for this inode, or undefined (and remembered) if this is the first. */
function hardlinkTarget(seen: Map<string, string>, stats: Stats, path: string): string | undefined {
  const key = `${stats.dev}:${stats.ino}`;
  const first = seen.get(key);
  if (first === undefined) seen.set(key, path);
  return first;
}

/** Header, data and padding of a regular file; small files in one chunk. */
async function* fileChunks(abs: string, entry: TarEntry): AsyncGenerator<Buffer> {
  const header = encodeHeader(entry);
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (entry.size <= SMALL_FILE) {
      const block = Buffer.alloc(header.length + entry.size + padding(entry.size));
      header.copy(block);
      readFully(fd, block.subarray(header.length, header.length + entry.size), abs, entry.size);
      yield block;
      return;
    }
    yield header;
    for (let left = entry.size; left > 0; ) {
      const chunk = Buffer.allocUnsafe(Math.min(left, CHUNK));
      readFully(fd, chunk, abs, entry.size);
      left -= chunk.length;
      yield chunk;
    }
    yield Buffer.alloc(padding(entry.size));
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, buffer: Buffer, abs: string, size: number): void {
  let filled = 0;
  while (filled < buffer.length) {
    const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) {
      throw new LayerError('E_LAYER_SOURCE', `${abs} shrank while the layer was written (expected ${size} bytes)`);
    }
    filled += bytesRead;
  }
}

// Linux's encoding of dev_t (glibc's gnu_dev_major/minor).
function major(dev: number): number {
  return Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
}

function minor(dev: number): number {
  return Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));
}
