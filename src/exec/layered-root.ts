// A read-only view of a root made of overlay lower dirs (bottom first), as the kernel's
// overlayfs would show it: whiteouts (0/0 char devices) hide an entry of the layers below,
// an opaque dir (xattr `trusted.overlay.opaque=y`) hides the dirs below it, and a non-dir
// hides everything below it. Paths are resolved chroot-style: a symlink is followed
// relative to this root and `..` stops at `/`, so nothing resolves to a host path outside
// the layers (the approach of moby's FollowSymlinkInScope and containerd's RootPath).

import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { readlink, open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BuildError } from '../errors.js';
import { readXattrs } from './copy/xattrs.js';

const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Symlinks followed during one resolution before giving up, as Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;

/** One entry of the merged view: the layer that provides it and its host path. */
export interface LayeredEntry {
  /** Index into the lower dirs (0 = bottom). */
  layer: number;
  /** The backing file on the host; read it, never write it. */
  hostPath: string;
  stats: Stats;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (default true). */
  followFinal?: boolean;
  /**
   * Return a path even when components are missing: the missing tail is appended as
   * written (for destinations that will be created). Default: missing → undefined.
   */
  allowMissing?: boolean;
  /** Called when a symlink or `..` would leave the root; may throw. Default: clamp to `/`. */
  onEscape?: (path: string, via: string) => void;
}

export interface LayeredRootOptions {
  /** Treat 0/0 char devices and opaque xattrs as overlay markers (default true). */
  overlayMarkers?: boolean;
  /** The top dir is an upper dir the caller writes: it holds no overlay markers, so it is never probed. */
  writableTop?: boolean;
}

/** Splits an in-root path into its names, dropping empty parts and `.`. */
export function pathComponents(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

export function joinInRoot(components: readonly string[]): string {
  return '/' + components.join('/');
}

/** A lower dir's own path with host symlinks resolved (a context dir may be reached through one). */
function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

export function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

// Lookups use the synchronous fs calls on purpose: one lstat costs ~5 µs that way against
// ~30 µs through the promise API's thread pool, and a COPY of a large tree makes tens of
// thousands of them. Long walks yield to the event loop between entries (see select.ts).
function lstatOrUndefined(path: string): Stats | undefined {
  try {
    // Most lookups of a copy miss (is the destination there already?): a thrown ENOENT costs
    // ~8 µs here, a returned one ~1 µs. ENOTDIR still throws.
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * The opaque dirs of one layer dir, from one `getfattr -R` dump of the layer (as src/layer
 * reads xattrs). It runs only when a dir exists in two layers of a root, the one case where
 * opacity changes the merge.
 */
export function listOpaqueDirs(layerDir: string): Promise<Set<string>> {
  // Lower dirs are unpacked layers, immutable once made: one dump per layer per process. The
  // dir's inode in the key tells a snapshot removed and made again at the same path apart.
  const key = opaqueCacheKey(layerDir);
  const listed = opaqueDirsByLayer.get(key);
  if (listed) return listed;
  const reading = readOpaqueDirs(layerDir);
  reading.catch(() => opaqueDirsByLayer.delete(key));
  cacheOpaqueDirs(key, reading);
  return reading;
}

/**
 * Tells what the opaque dirs (relative, `a/b`) of a lower dir are, known from when it was
 * made (the store records them per snapshot), so that no process has to scan it for them:
 * `getfattr -R` over a base image of 10,000 files takes a few hundred ms.
 */
export function knowOpaqueDirs(layerDir: string, opaqueDirs: readonly string[]): void {
  const real = realDir(layerDir);
  const key = opaqueCacheKey(real);
  if (!opaqueDirsByLayer.has(key)) cacheOpaqueDirs(key, Promise.resolve(new Set(opaqueDirs.map((dir) => join(real, dir)))));
}

function opaqueCacheKey(layerDir: string): string {
  return `${layerDir}\0${statSync(layerDir).ino}`;
}

function cacheOpaqueDirs(key: string, dirs: Promise<Set<string>>): void {
  opaqueDirsByLayer.delete(key);
  if (opaqueDirsByLayer.size >= OPAQUE_CACHE_LAYERS) opaqueDirsByLayer.delete(opaqueDirsByLayer.keys().next().value!);
  opaqueDirsByLayer.set(key, dirs);
}

const OPAQUE_CACHE_LAYERS = 512;
const opaqueDirsByLayer = new Map<string, Promise<Set<string>>>();

async function readOpaqueDirs(layerDir: string): Promise<Set<string>> {
  const dump = await readXattrs([layerDir], { recursive: true, pattern: '^trusted\\.overlay\\.opaque$' });
  const opaque = new Set<string>();
  for (const [path, xattrs] of dump) if (xattrs.get(OPAQUE_XATTR)?.toString() === 'y') opaque.add(path);
  return opaque;
}

export class LayeredRoot {
  readonly lowerDirs: readonly string[];
  private readonly overlayMarkers: boolean;
  private readonly writableTop: boolean;
  /** Canonical dir path → layers (top first) whose copy of the dir is visible in the merge. */
  private readonly dirLayerCache = new Map<string, Promise<number[] | undefined>>();

  constructor(lowerDirs: readonly string[], options: LayeredRootOptions = {}) {
    this.lowerDirs = lowerDirs.map(realDir);
    this.overlayMarkers = options.overlayMarkers ?? true;
    this.writableTop = options.writableTop ?? false;
  }

  /** Drops what is known about a dir, after a writer changed it in one of the layers. */
  forget(canonicalDir: string): void {
    this.dirLayerCache.delete(joinInRoot(pathComponents(canonicalDir)));
  }

  /** The entry at a canonical path (no symlinks in it), not following a final symlink. */
  async lookup(canonicalPath: string): Promise<LayeredEntry | undefined> {
    const names = pathComponents(canonicalPath);
    if (names.length === 0) return this.rootEntry();
    const parentLayers = await this.dirLayers(joinInRoot(names.slice(0, -1)));
    if (!parentLayers) return undefined;
    const rel = names.join('/');
    for (const layer of parentLayers) {
      const hostPath = join(this.lowerDirs[layer]!, rel);
      const stats = lstatOrUndefined(hostPath);
      if (!stats) continue;
      if (this.overlayMarkers && isWhiteout(stats)) return undefined;
      return { layer, hostPath, stats };
    }
    return undefined;
  }

  /** Resolves `path` inside the root, following symlinks chroot-style. */
  async resolve(path: string, options: ResolveOptions = {}): Promise<string | undefined> {
    const followFinal = options.followFinal ?? true;
    const pending = pathComponents(path);
    const done: string[] = [];
    let symlinks = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '..') {
        if (done.length === 0) options.onEscape?.(path, '..');
        done.pop();
        continue;
      }
      const candidate = joinInRoot([...done, name]);
      const entry = await this.lookup(candidate);
      if (!entry) {
        if (!options.allowMissing) return undefined;
        done.push(name); // a lookup below a missing dir finds nothing, so the rest stays literal
        continue;
      }
      const isLast = pending.length === 0;
      if (entry.stats.isSymbolicLink() && (!isLast || followFinal)) {
        if (++symlinks > MAX_SYMLINKS) {
          throw new BuildError('E_SYMLINK_LOOP', `too many levels of symbolic links resolving ${path}`);
        }
        const target = readlinkSync(entry.hostPath);
        if (target.startsWith('/')) {
          options.onEscape?.(path, `${candidate} -> ${target}`);
          done.length = 0;
        }
        pending.unshift(...pathComponents(target));
        continue;
      }
      done.push(name);
    }
    return joinInRoot(done);
  }

  /** lstat in the merged view; intermediate symlinks are resolved inside the root. */
  async lstat(path: string): Promise<LayeredEntry | undefined> {
    const canonical = await this.resolve(path, { followFinal: false });
    return canonical === undefined ? undefined : this.lookup(canonical);
  }

  /** stat in the merged view: every symlink is resolved inside the root. */
  async stat(path: string): Promise<LayeredEntry | undefined> {
    const canonical = await this.resolve(path);
    return canonical === undefined ? undefined : this.lookup(canonical);
  }

  async readlink(path: string): Promise<string> {
    const entry = await this.lstat(path);
    if (!entry?.stats.isSymbolicLink()) throw notFound(path, 'a symlink');
    return readlink(entry.hostPath);
  }

  /** Names in a directory of the merged view, sorted bytewise. */
  async readdir(path: string): Promise<string[]> {
    const canonical = await this.resolve(path);
    if (canonical === undefined) throw notFound(path, 'a directory');
    return this.list(canonical);
  }

  /** readdir of a canonical path (no symlinks in it), without resolving it again: for walks. */
  async list(canonicalDir: string): Promise<string[]> {
    const layers = await this.dirLayers(joinInRoot(pathComponents(canonicalDir)));
    if (!layers) throw notFound(canonicalDir, 'a directory');
    const rel = pathComponents(canonicalDir).join('/');
    const visible = new Set<string>();
    const hidden = new Set<string>();
    for (const layer of layers) {
      const dirents = readdirSync(join(this.lowerDirs[layer]!, rel), { withFileTypes: true });
      const below: string[] = [];
      for (const dirent of dirents) {
        if (visible.has(dirent.name) || hidden.has(dirent.name)) continue;
        if (this.overlayMarkers && dirent.isCharacterDevice()) {
          const stats = lstatSync(join(this.lowerDirs[layer]!, rel, dirent.name));
          if (isWhiteout(stats)) {
            below.push(dirent.name);
            continue;
          }
        }
        visible.add(dirent.name);
      }
      for (const name of below) hidden.add(name);
    }
    return [...visible].sort(compareBytes);
  }

  /** Opens a regular file of the merged view for reading (symlinks resolved inside the root). */
  async open(path: string): Promise<FileHandle> {
    const entry = await this.stat(path);
    if (!entry?.stats.isFile()) throw notFound(path, 'a regular file');
    return open(entry.hostPath, 'r');
  }

  private async isOpaque(layer: number, hostPath: string): Promise<boolean> {
    if (this.writableTop && layer === this.lowerDirs.length - 1) return false;
    return (await listOpaqueDirs(this.lowerDirs[layer]!)).has(hostPath);
  }

  private async rootEntry(): Promise<LayeredEntry | undefined> {
    const top = this.lowerDirs.length - 1;
    if (top < 0) return undefined;
    return { layer: top, hostPath: this.lowerDirs[top]!, stats: lstatSync(this.lowerDirs[top]!) };
  }

  /** The layers (top first) that contribute to the merged dir at a canonical path. */
  private dirLayers(canonicalDir: string): Promise<number[] | undefined> {
    let cached = this.dirLayerCache.get(canonicalDir);
    if (!cached) {
      cached = this.computeDirLayers(canonicalDir);
      this.dirLayerCache.set(canonicalDir, cached);
    }
    return cached;
  }

  private async computeDirLayers(canonicalDir: string): Promise<number[] | undefined> {
    const names = pathComponents(canonicalDir);
    const candidates =
      names.length === 0
        ? this.lowerDirs.map((_, index) => index).reverse()
        : await this.dirLayers(joinInRoot(names.slice(0, -1)));
    if (!candidates) return undefined;
    const rel = names.join('/');
    const result: number[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const layer = candidates[i]!;
      const hostPath = join(this.lowerDirs[layer]!, rel);
      const stats = lstatOrUndefined(hostPath);
      if (!stats) continue;
      if (!stats.isDirectory()) break; // a file, symlink or whiteout hides everything below
      result.push(layer);
      const moreBelow = i < candidates.length - 1;
      if (moreBelow && names.length > 0 && this.overlayMarkers && (await this.isOpaque(layer, hostPath))) break;
    }
    return result.length > 0 ? result : undefined;
  }
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function notFound(path: string, what: string): BuildError {
  return new BuildError('E_NOT_FOUND', `${path}: not found or not ${what}`);
}
