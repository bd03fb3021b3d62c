// The destination of a copy: the target root's lower dirs seen through a LayeredRoot with the
// fresh upper dir on top. Every write goes into the upper dir at a canonical path (no symlink
// in it), and each dir on the way is created there first: a dir that exists only in a lower
// is copied up with its metadata, as overlayfs would do, so the upper dir stays a valid diff.
// Writes are synchronous fs calls, as the lookups in layered-root.ts are (several times
// faster than the promise API for many small files); walks yield between entries.

import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import {
  chmodSync,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { BuildError } from '../../errors.js';
import { readXattrs, writeXattrs, type Xattrs } from './xattrs.js';
import { LayeredRoot, isWhiteout, joinInRoot, pathComponents, type LayeredEntry } from '../layered-root.js';

const execFileAsync = promisify(execFile);

/** Owner and permission bits (incl. setuid, setgid, sticky) of something written. */
export interface Meta {
  mode: number;
  uid: number;
  gid: number;
}

export class TargetTree {
  private view: LayeredRoot;
  private readonly lowerDirs: readonly string[];
  private readonly upperDir: string;
  private readonly upperLayer: number;
  written = 0;
  bytes = 0;
  /** Source inode → upper host path of its first copy (once written): hardlinks kept within one match. */
  private readonly linked = new Map<string, Promise<string>>();
  /** Upper dirs with the setgid bit: what is made in them takes their group. */
  private readonly setgidDirs = new Set<string>();
  /** Upper host path → the host path it was copied from, for the xattrs copied at the end. */
  private readonly copiedFrom = new Map<string, string>();
  /** An earlier result of this copy, whose unchanged files are linked (CopyRequest.reuseFrom). */
  private readonly reuseFrom: string | undefined;
  /** Upper host path → what was linked there, to compare xattrs at the end. */
  private readonly reused = new Map<string, { source: LayeredEntry; meta: Meta; previous: string }>();
  /** Dirs this copy made where the root had nothing: what is in them, this copy wrote. */
  private readonly freshDirs = new Set<string>();
  /** Leaves this copy wrote, by canonical path. */
  private readonly writtenLeaves = new Set<string>();

  constructor(lowerDirs: readonly string[], upperDir: string, reuseFrom?: string) {
    this.lowerDirs = lowerDirs;
    this.upperDir = upperDir;
    this.reuseFrom = reuseFrom;
    this.upperLayer = lowerDirs.length;
    this.view = this.freshView();
  }

  /**
   * Lets someone else write below a dir of the upper dir (ADD's archive extractor), and
   * forgets what was known about the tree, which that changed.
   */
  async writeExternally(canonicalDir: string, write: (hostDir: string) => Promise<void>): Promise<void> {
    await write(this.hostPath(canonicalDir));
    this.view = this.freshView();
    this.freshDirs.clear();
  }

  private freshView(): LayeredRoot {
    return new LayeredRoot([...this.lowerDirs, this.upperDir], { writableTop: true });
  }

  /** Resolves a destination inside the target root; missing components stay as written. */
  async resolve(path: string): Promise<string> {
    return (await this.view.resolve(path, { allowMissing: true }))!;
  }

  entry(canonicalPath: string): Promise<LayeredEntry | undefined> {
    return this.view.lookup(canonicalPath);
  }

  /** Makes every dir of `canonicalDir` exist in the upper dir; new ones get `meta`. */
  async mkdirAll(canonicalDir: string, meta: Meta): Promise<void> {
    const names = pathComponents(canonicalDir);
    for (let i = 1; i <= names.length; i++) await this.ensureDir(joinInRoot(names.slice(0, i)), meta);
  }

  /**
   * Makes the dir exist in the upper dir (its parent must already): copied up from a lower
   * keeping its metadata, or created with `meta` (and the xattrs of `from`, its source).
   */
  async ensureDir(canonicalPath: string, meta: Meta, from?: string): Promise<void> {
    const existing = await this.existingDir(canonicalPath);
    if (existing?.layer === this.upperLayer) return;
    await this.makeUpperDir(canonicalPath, existing ? metaOf(existing.stats) : meta, existing?.hostPath ?? from);
    if (!existing) this.freshDirs.add(canonicalPath);
  }

  /**
   * A dir copied from a source, below the top of the copy: like `cp -a`, an existing dir
   * takes the source dir's owner, mode and xattrs (BuildKit overwrites its metadata too).
   */
  async copyDir(canonicalPath: string, meta: Meta, from: string): Promise<void> {
    const existing = await this.existingDir(canonicalPath);
    if (existing?.layer === this.upperLayer) {
      this.applyMeta(existing.hostPath, meta);
      this.copiedFrom.set(existing.hostPath, from);
      return;
    }
    await this.makeUpperDir(canonicalPath, meta, from);
    if (!existing) this.freshDirs.add(canonicalPath);
  }

  private async existingDir(canonicalPath: string): Promise<LayeredEntry | undefined> {
    const existing = await this.entry(canonicalPath);
    if (existing && !existing.stats.isDirectory()) {
      throw new BuildError('E_COPY_NOT_DIRECTORY', `cannot copy to non-directory: ${canonicalPath}`, {
        hint: 'the destination (or one of its parents) exists in the image as a file or symlink',
      });
    }
    return existing;
  }

  private async makeUpperDir(canonicalPath: string, meta: Meta, xattrsFrom: string | undefined): Promise<void> {
    const hostPath = this.hostPath(canonicalPath);
    mkdirSync(hostPath);
    this.applyMeta(hostPath, meta);
    if (xattrsFrom !== undefined) this.copiedFrom.set(hostPath, xattrsFrom);
    this.view.forget(canonicalPath);
    this.written++;
  }

  /**
   * Starts the copy of another matched source. BuildKit copies each match with its own copier,
   * so two sources that are hardlinks of one file (`COPY a b /d/`) become two files.
   */
  startMatch(): void {
    this.linked.clear();
  }

  /**
   * Writes a non-dir entry from a source at a canonical path whose parent is in the upper
   * dir, replacing a file or symlink there. A second name of an already copied inode becomes
   * a hardlink to the first copy.
   */
  async writeLeaf(canonicalPath: string, source: LayeredEntry, meta: Meta): Promise<void> {
    const { stats } = source;
    const hostPath = this.hostPath(canonicalPath);
    if (!stats.isFile() || stats.nlink < 2) return this.replace(canonicalPath, () => this.writeNew(hostPath, source, meta));
    const inode = `${stats.dev}:${stats.ino}`;
    const first = this.linked.get(inode);
    if (first !== undefined) return this.replace(canonicalPath, async () => linkSync(await first, hostPath));
    const written = this.replace(canonicalPath, () => this.writeNew(hostPath, source, meta)).then(() => hostPath);
    this.linked.set(inode, written);
    await written;
  }

  private async replace(canonicalPath: string, write: () => Promise<void>): Promise<void> {
    // In a dir this copy made, only what it wrote there can be in the way: no lookup needed.
    const nothingThere = this.freshDirs.has(posix.dirname(canonicalPath)) && !this.writtenLeaves.has(canonicalPath) && !this.freshDirs.has(canonicalPath);
    const existing = nothingThere ? undefined : await this.entry(canonicalPath);
    if (existing?.stats.isDirectory()) {
      throw new BuildError('E_COPY_OVERWRITE_DIR', `cannot overwrite directory ${canonicalPath} with a non-directory`, {
        hint: 'remove the directory first, or copy to a different path',
      });
    }
    if (existing?.layer === this.upperLayer) rmSync(existing.hostPath);
    await write();
    this.writtenLeaves.add(canonicalPath);
    this.written++;
  }

  private async writeNew(hostPath: string, source: LayeredEntry, meta: Meta, reuse = true): Promise<void> {
    const { stats } = source;
    if (reuse && (await this.linkUnchanged(hostPath, source, meta))) return;
    this.copiedFrom.set(hostPath, source.hostPath);
    if (stats.isSymbolicLink()) {
      symlinkSync(readlinkSync(source.hostPath), hostPath);
      this.setOwner(hostPath, meta);
      lutimesSync(hostPath, stats.atime, stats.mtime);
      return;
    }
    if (stats.isFile()) {
      // creates it with the source's mode; a large file goes through the thread pool, so the
      // event loop is not held for the whole copy
      if (stats.size > LARGE_FILE) await copyFile(source.hostPath, hostPath);
      else copyFileSync(source.hostPath, hostPath);
      this.bytes += stats.size;
      this.setOwner(hostPath, meta);
      // chown clears setuid and setgid, so those are set again after it
      const modeKept = meta.mode === (stats.mode & 0o7777) && (this.keepsOwner(hostPath, meta) || (meta.mode & 0o6000) === 0);
      if (!modeKept) chmodSync(hostPath, meta.mode);
    } else {
      await makeSpecial(hostPath, source);
      this.applyMeta(hostPath, meta);
    }
    utimesSync(hostPath, stats.atime, stats.mtime);
  }

  /**
   * Links the file the earlier run of this copy wrote, if it is exactly what would be written
   * now (its xattrs are compared at the end): creating a file costs this ext4 about 25 times
   * what a link does. Snapshots are never written in place, so sharing the inode is safe.
   */
  private async linkUnchanged(hostPath: string, source: LayeredEntry, meta: Meta): Promise<boolean> {
    const { stats } = source;
    if (this.reuseFrom === undefined || !stats.isFile() || stats.nlink > 1) return false;
    const previous = join(this.reuseFrom, relative(this.upperDir, hostPath));
    const before = lstatSync(previous, { throwIfNoEntry: false });
    const same = before?.isFile() && before.size === stats.size && (before.mode & 0o7777) === meta.mode
      && before.uid === meta.uid && before.gid === meta.gid && before.mtime.getTime() === stats.mtime.getTime();
    if (!same || !(await sameContent(previous, source.hostPath, stats.size))) return false;
    try {
      linkSync(previous, hostPath);
    } catch (error) {
      // Too many links to one inode, another file system, a refusing fs: copy as usual.
      if (['EMLINK', 'EXDEV', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
      throw error;
    }
    this.reused.set(hostPath, { source, meta, previous });
    this.bytes += stats.size;
    return true;
  }

  /**
   * Copies the extended attributes of everything written (file capabilities, user.*),
   * last, since chown clears security.capability. Overlay and SELinux labels stay behind.
   * A linked file whose xattrs differ from its source's is copied after all.
   */
  async copyXattrs(): Promise<void> {
    const reused = [...this.reused];
    const paths = [...this.copiedFrom.values(), ...reused.flatMap(([, r]) => [r.source.hostPath, r.previous])];
    if (paths.length === 0) return;
    const found = await readXattrs([...new Set(paths)]);
    const kept = (path: string) => [...(found.get(path) ?? [])].filter(([name]) => !SKIPPED_XATTR.test(name));
    for (const [upperPath, { source, meta, previous }] of reused) {
      if (sameXattrs(kept(source.hostPath), kept(previous))) continue;
      rmSync(upperPath);
      await this.writeNew(upperPath, source, meta, false);
    }
    const targets = new Map<string, Xattrs>();
    for (const [upperPath, sourcePath] of this.copiedFrom) {
      const xattrs = kept(sourcePath);
      if (xattrs.length > 0) targets.set(upperPath, new Map(xattrs));
    }
    await writeXattrs(targets);
  }

  /** Whether a new entry already has `meta`'s owner (a setgid dir hands its group down). */
  private keepsOwner(hostPath: string, meta: Meta): boolean {
    return ownedByUs(meta) && !this.setgidDirs.has(dirname(hostPath));
  }

  private setOwner(hostPath: string, meta: Meta): void {
    if (!this.keepsOwner(hostPath, meta)) chown(hostPath, meta);
  }

  private applyMeta(hostPath: string, meta: Meta): void {
    this.setOwner(hostPath, meta);
    chmodSync(hostPath, meta.mode); // after chown, which clears setuid/setgid
    if (meta.mode & 0o2000) this.setgidDirs.add(hostPath);
    else this.setgidDirs.delete(hostPath);
  }

  private hostPath(canonicalPath: string): string {
    return join(this.upperDir, posix.normalize(canonicalPath));
  }
}

/** Files larger than this are copied, and compared before linking, through the thread pool rather than synchronously. */
const LARGE_FILE = 8 << 20;

/** Compares two files of `size` bytes: small ones read whole, large ones in chunks off the event loop. */
async function sameContent(a: string, b: string, size: number): Promise<boolean> {
  if (size <= LARGE_FILE) return readFileSync(a).equals(readFileSync(b));
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const [ba, bb] = [Buffer.alloc(COMPARE_CHUNK), Buffer.alloc(COMPARE_CHUNK)];
    for (let offset = 0; offset < size; offset += COMPARE_CHUNK) {
      const length = Math.min(COMPARE_CHUNK, size - offset);
      const [ra, rb] = await Promise.all([fa.read(ba, 0, length, offset), fb.read(bb, 0, length, offset)]);
      if (ra.bytesRead !== length || rb.bytesRead !== length || !ba.subarray(0, length).equals(bb.subarray(0, length))) return false;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

const COMPARE_CHUNK = 1 << 20;

function sameXattrs(a: [string, Buffer][], b: [string, Buffer][]): boolean {
  const byName = new Map(b);
  return a.length === b.length && a.every(([name, value]) => byName.get(name)?.equals(value) === true);
}

/** Attributes that belong to the host or to overlayfs, not to the copied file. */
const SKIPPED_XATTR = /^(trusted\.overlay\.|security\.selinux$)/;

export function metaOf(stats: Stats): Meta {
  return { mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
}

const EUID = process.geteuid?.() ?? 0;
const EGID = process.getegid?.() ?? 0;

/**
 * Whether a new file already has this owner: this process creates files as its own, and an
 * unprivileged process's files stand for root's (the layer writer records them as 0:0).
 */
function ownedByUs(meta: Meta): boolean {
  if (EUID !== 0 && meta.uid === 0 && meta.gid === 0) return true;
  return meta.uid === EUID && meta.gid === EGID;
}

function chown(hostPath: string, meta: Meta): void {
  try {
    lchownSync(hostPath, meta.uid, meta.gid);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EPERM') throw cause;
    throw new BuildError('E_COPY_CHOWN', `cannot give copied files the owner ${meta.uid}:${meta.gid} without root`, {
      hint: 'run the build as root, or copy without --chown into a root-owned destination',
      cause,
    });
  }
}


/** FIFOs and device nodes: Node has no mknod(2), so the coreutils tools make them. */
async function makeSpecial(hostPath: string, source: LayeredEntry): Promise<void> {
  const { stats } = source;
  const major = String(Math.floor(stats.rdev / 256) & 0xfff);
  const minor = String((stats.rdev & 0xff) | ((stats.rdev >> 12) & 0xfff00));
  if (stats.isFIFO()) await execFileAsync('mknod', [hostPath, 'p']);
  else if (stats.isCharacterDevice() && !isWhiteout(stats)) await execFileAsync('mknod', [hostPath, 'c', major, minor]);
  else if (stats.isBlockDevice()) await execFileAsync('mknod', [hostPath, 'b', major, minor]);
  else {
    throw new BuildError('E_COPY_UNSUPPORTED_TYPE', `cannot copy ${source.hostPath}: sockets and 0/0 devices cannot be stored in a layer`);
  }
}
