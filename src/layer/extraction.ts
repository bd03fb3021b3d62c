// Applying tar entries to a directory, one at a time. Every entry's parent is resolved inside
// the root (safe-path.ts), the final component is never followed, files are created with
// O_EXCL|O_NOFOLLOW and their metadata set through the open descriptor. Work that must come
// last is deferred: extended attributes (chown and later writes clear security.capability)
// and directory mtimes (creating children changes them), each re-checked before it is applied.
// File-system calls are synchronous: see safe-path.ts for the measurement.

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
} from 'node:fs';
import { join, relative } from 'node:path';
import { LayerError } from '../errors.js';
import { removeTree } from './remove-tree.js';
import { cleanEntryName, DirectPathChecker, lstatOrNull, resolveDirInRoot } from './safe-path.js';
import { mknod } from './special-files.js';
import type { TarEntry } from './tar-header.js';
import { applyXattrs, type Xattrs } from './xattr.js';

export type WhiteoutMode = 'overlay' | 'apply' | 'none';

export interface ExtractionLimits {
  bytes: number;
  entries: number;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const OPAQUE_XATTR = 'trusted.overlay.opaque';
/** Linux's limit on a path passed to a system call, terminating NUL included. */
const PATH_MAX = 4096;
/**
 * overlayfs reads its own metadata (opaque, redirect, metacopy, origin) from these; a layer
 * could use them to point the overlay elsewhere, so they come only from whiteout conversion.
 */
const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';

export class Extraction {
  private bytes = 0;
  private entries = 0;
  /** Resolved parent directories, by relative path; cleared whenever anything is removed. */
  private readonly parents = new Map<string, string>();
  /** Directory mtimes and extended attributes to set at the end, by host path. */
  private readonly dirTimes = new Map<string, number>();
  private readonly xattrs = new Map<string, Xattrs>();
  /**
   * `apply` mode: the host paths this layer declared, as entries or as their parent directories.
   * Whiteouts apply to the layers below only (image-spec): these are what an opaque marker
   * keeps and a whiteout spares.
   */
  private readonly declared = new Set<string>();
  private readonly asRoot = process.getuid?.() === 0;
  private readonly root: string;
  private readonly whiteouts: WhiteoutMode;
  private readonly limits: ExtractionLimits;

  /** `root` must be absolute; in `overlay` mode it starts empty. */
  constructor(root: string, whiteouts: WhiteoutMode, limits: ExtractionLimits) {
    this.root = root;
    this.whiteouts = whiteouts;
    this.limits = limits;
  }

  async apply(entry: TarEntry, body: AsyncIterable<Buffer>, offset: number): Promise<void> {
    const components = cleanEntryName(entry.path, `tar entry at byte ${offset}`);
    this.countEntry(entry, offset);
    if (components.length === 0) return this.applyRoot(entry, offset);
    const name = components[components.length - 1]!;
    const parent = this.parent(components.slice(0, -1), offset);
    if (this.whiteouts !== 'none' && name.startsWith(WHITEOUT_PREFIX)) return this.applyWhiteout(parent, name, offset);
    const target = join(parent, name);
    if (Buffer.byteLength(target) >= PATH_MAX) {
      throw new LayerError('E_LAYER_UNSUPPORTED', `tar entry at byte ${offset} would be ${Buffer.byteLength(target)} bytes long on this system, beyond PATH_MAX (${PATH_MAX})`, {
        hint: 'the layer nests directories deeper than Linux paths allow',
      });
    }
    const state = this.clearTarget(target, entry);
    if (state === 'skip') return;
    // A fresh object gets no attributes left over from what stood there before.
    if (state === 'fresh') this.xattrs.delete(target);
    await this.create(target, entry, body, offset, state === 'fresh');
    this.noteDeclared(target);
    if (entry.type === 'directory') {
      this.dirTimes.set(target, entry.mtime);
      this.parents.set(components.join('/'), target);
    }
    const xattrs = [...(entry.xattrs ?? [])].filter(([key]) => !key.startsWith(OVERLAY_XATTR_PREFIX));
    if (xattrs.length > 0) this.xattrs.set(target, new Map([...(this.xattrs.get(target) ?? []), ...xattrs]));
  }

  /**
   * After finish(): the directories (relative, `a/b`) marked opaque, so that readers of the
   * tree need not scan it for them; undefined when an attribute could not be set, as the tree
   * may then differ from what the layer says.
   */
  opaqueDirs: string[] | undefined;

  /** Applies the deferred work: extended attributes, then directory mtimes. Returns warnings. */
  async finish(): Promise<string[]> {
    // Nothing is applied through a symlink that a later entry put on the way.
    const checker = new DirectPathChecker(this.root);
    const targets = [...this.xattrs].filter(([target]) => checker.check(target) !== null);
    // Sorted so that setfattr sees the same input for the same layer.
    targets.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const warnings = targets.length > 0 ? await applyXattrs(targets) : [];
    const opaque = targets.filter(([, xattrs]) => xattrs.get(OPAQUE_XATTR)?.toString() === 'y');
    this.opaqueDirs = warnings.length > 0 ? undefined : opaque.map(([target]) => relative(this.root, target));
    const dirs = [...this.dirTimes].sort(([a], [b]) => b.length - a.length);
    for (const [target, mtime] of dirs) {
      if (checker.check(target)?.isDirectory()) lutimesSync(target, mtime, mtime);
    }
    return warnings;
  }

  private noteDeclared(path: string): void {
    if (this.whiteouts === 'apply') this.declared.add(path);
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

  private parent(components: string[], offset: number): string {
    const key = components.join('/');
    const cached = this.parents.get(key);
    if (cached !== undefined) return cached;
    const resolved = resolveDirInRoot(this.root, components, {
      create: true,
      onDirectory: (path) => this.noteDeclared(path),
      what: `parent of the tar entry at byte ${offset}`,
    })!;
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

  private async create(target: string, entry: TarEntry, body: AsyncIterable<Buffer>, offset: number, fresh: boolean): Promise<void> {
    switch (entry.type) {
      case 'directory':
        if (fresh) mkdirSync(target, { mode: 0o700 });
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
          throw new LayerError(
            'E_LAYER_UNSAFE_PATH',
            `hardlink at byte ${offset} points to ${JSON.stringify(entry.linkname)}, which is not an earlier file of the layer`,
          );
        }
        return linkSync(source, target);
      }
      case 'char':
      case 'block':
      case 'fifo':
        await mknod(target, entry, offset);
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
    const what = `hardlink target of ${JSON.stringify(entry.path)}`;
    const components = cleanEntryName(entry.linkname!, what);
    if (components.length === 0) return undefined;
    const parent = resolveDirInRoot(this.root, components.slice(0, -1), { create: false, what });
    if (parent === undefined) return undefined;
    const source = join(parent, components[components.length - 1]!);
    const stats = lstatOrNull(source);
    return stats === null || stats.isDirectory() ? undefined : source;
  }

  private async applyWhiteout(parent: string, name: string, offset: number): Promise<void> {
    if (name === OPAQUE_MARKER) return this.applyOpaque(parent);
    // Other `.wh..wh.` names are aufs bookkeeping (hardlink dirs), meaningless here.
    if (name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw new LayerError('E_LAYER_UNSAFE_PATH', `whiteout at byte ${offset} names ${JSON.stringify(hidden)}, which is not a file name`);
    }
    const target = join(parent, hidden);
    const existing = lstatOrNull(target);
    if (this.whiteouts === 'overlay') {
      // The snapshot started empty: what exists came from this layer, which a whiteout spares.
      if (existing === null) await mknod(target, { type: 'char', devmajor: 0, devminor: 0, path: hidden }, offset);
    } else if (existing !== null && !this.declared.has(target)) {
      this.remove(target, existing.isDirectory());
    }
  }

  /** Hides everything below `dir` that this layer did not put there. */
  private applyOpaque(dir: string): void {
    if (this.whiteouts === 'overlay') {
      this.xattrs.set(dir, new Map([...(this.xattrs.get(dir) ?? []), [OPAQUE_XATTR, Buffer.from('y')]]));
      return;
    }
    const pending = [dir];
    while (pending.length > 0) {
      const current = pending.pop()!;
      for (const child of readdirSync(current, { withFileTypes: true })) {
        const path = join(current, child.name);
        if (!this.declared.has(path)) this.remove(path, child.isDirectory());
        else if (child.isDirectory()) pending.push(path);
      }
    }
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let written = 0; written < chunk.length; ) written += writeSync(fd, chunk, written);
}
