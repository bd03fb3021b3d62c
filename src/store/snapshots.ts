// Snapshots: each layer unpacked once, into snapshots/<diffID hex>/fs, ready to be an overlay
// lowerdir (OCI whiteouts become overlay whiteouts). A snapshot is built in a temp dir on the
// same file system with an info.json beside fs/, then renamed into place: it is either
// complete or absent. When two processes race, the first rename wins and the loser's copy is
// removed. Contents are not fsynced file by file: a SIGKILL cannot tear a rename, and after a
// power loss `tsbuild store verify` finds what the kernel had not written.

import { lstat, mkdir, readdir, readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { fsyncDir } from '../lib/atomic.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { digestHex, type Digest } from '../lib/digest.js';
import { isCode, withLock } from '../lib/lock.js';
import { extractLayer } from '../layer/index.js';
import { storeFsError } from './fs-errors.js';
import type { StoreLayout } from './layout.js';
import type { BlobStore, Protect } from './blobs.js';
import type { LayerRef } from './types.js';

export interface SnapshotInfo {
  diffId: Digest;
  /** Apparent bytes of the unpacked files (hardlinks once). */
  size: number;
  files: number;
  /** The blob it was unpacked from, or none for an adopted upper dir. */
  source?: Digest;
  /** Dirs (relative) marked opaque; absent in snapshots made before it was recorded, or unknown. */
  opaqueDirs?: string[];
  createdAt: string;
}

const UNPACK_WAIT_MS = 60 * 60_000;

type TempDirFactory = (purpose: string) => Promise<{ path: string; release(): Promise<void> }>;

export class SnapshotStore {
  private readonly inFlight = new Map<Digest, Promise<string>>();
  /** Recorded opaque dirs by diffID: every step of a build asks for each layer below it. */
  private readonly opaqueDirsKnown = new Map<Digest, string[]>();

  private readonly layout: StoreLayout;
  private readonly blobs: BlobStore;
  private readonly protect: Protect;
  private readonly tempDir: TempDirFactory;

  constructor(layout: StoreLayout, blobs: BlobStore, protect: Protect, tempDir: TempDirFactory) {
    this.layout = layout;
    this.blobs = blobs;
    this.protect = protect;
    this.tempDir = tempDir;
  }

  fsPath(diffId: Digest): string {
    return join(this.layout.snapshot(diffId), 'fs');
  }

  async exists(diffId: Digest): Promise<boolean> {
    try {
      return (await lstat(this.fsPath(diffId))).isDirectory();
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async info(diffId: Digest): Promise<SnapshotInfo | undefined> {
    try {
      return JSON.parse(await readFile(join(this.layout.snapshot(diffId), 'info.json'), 'utf8')) as SnapshotInfo;
    } catch {
      return undefined;
    }
  }

  /**
   * The dirs of a snapshot recorded as opaque when it was made, or undefined when not recorded.
   * Kept once read: a snapshot made again for the same diffID has the same tree.
   */
  async opaqueDirs(diffId: Digest): Promise<string[] | undefined> {
    const known = this.opaqueDirsKnown.get(diffId);
    if (known) return known;
    const recorded = (await this.info(diffId))?.opaqueDirs;
    if (recorded) this.opaqueDirsKnown.set(diffId, recorded);
    return recorded;
  }

  async list(): Promise<string[]> {
    return readdir(this.layout.snapshotsDir).catch(() => []);
  }

  ensure(layer: LayerRef): Promise<string> {
    const running = this.inFlight.get(layer.diffId);
    if (running) return running;
    const work = this.unpack(layer).finally(() => this.inFlight.delete(layer.diffId));
    this.inFlight.set(layer.diffId, work);
    return work;
  }

  private async unpack(layer: LayerRef): Promise<string> {
    await this.protect([layer.diffId, layer.descriptor.digest]);
    if (await this.exists(layer.diffId)) return this.fsPath(layer.diffId);
    // One process unpacks a given layer; the others wait and then find it done.
    try {
      return await withLock(this.layout.lock(`snapshot-${digestHex(layer.diffId)}`), () => this.unpackLocked(layer), {
        purpose: `unpacking ${layer.diffId}`,
        // A live holder is making progress (a dead one is reaped at once): big layers take long.
        timeoutMs: UNPACK_WAIT_MS,
      });
    } catch (error) {
      // The layer reader wraps a failed blob read (a corrupt or missing blob) in its own error.
      throw storeErrorIn(error) ?? storeFsError(error, `unpacking layer ${layer.descriptor.digest}`);
    }
  }

  private async unpackLocked(layer: LayerRef): Promise<string> {
    if (await this.exists(layer.diffId)) return this.fsPath(layer.diffId);
    const staging = await this.tempDir('snapshot');
    try {
      const fs = join(staging.path, 'fs');
      await mkdir(fs);
      // Measured before the blob is opened: an opened blob streams at once, and a small corrupt
      // one could fail its verification during this await, before anyone listens for that.
      const maxBytes = await spaceForLayer(fs);
      const result = await extractLayer(this.blobs.open(layer.descriptor.digest), fs, {
        mediaType: layer.descriptor.mediaType,
        whiteouts: 'overlay',
        maxBytes,
      });
      if (result.diffId !== layer.diffId) {
        throw new StoreError('corrupt', `layer ${layer.descriptor.digest} unpacks to diffID ${result.diffId}, but the image says ${layer.diffId}`, {
          hint: 'The image config does not match its layers; load or pull the image again.',
        });
      }
      return await this.install(layer.diffId, staging.path, { source: layer.descriptor.digest, opaqueDirs: result.opaqueDirs });
    } finally {
      await staging.release();
    }
  }

  /** Adopts `dir` (on the store's file system, e.g. from createTempDir) as the snapshot of `diffId`. */
  async commit(diffId: Digest, dir: string, opaqueDirs?: string[]): Promise<string> {
    await this.protect([diffId]);
    if (await this.exists(diffId)) {
      await rm(dir, { recursive: true, force: true });
      return this.fsPath(diffId);
    }
    const staging = await this.tempDir('commit');
    try {
      try {
        await rename(dir, join(staging.path, 'fs'));
      } catch (error) {
        if (isCode(error, 'EXDEV')) {
          throw new StoreError('invalid', `cannot adopt ${dir} as a snapshot: it is on another file system than the store`, {
            hint: 'Create the directory with store.createTempDir() so it can be renamed in.',
          });
        }
        throw error;
      }
      return await this.install(diffId, staging.path, { opaqueDirs });
    } catch (error) {
      throw storeFsError(error, `committing snapshot ${diffId}`);
    } finally {
      await staging.release();
    }
  }

  /** staging/fs is complete: describe it in staging/info.json and rename staging into place. */
  private async install(diffId: Digest, staging: string, facts: Pick<SnapshotInfo, 'source' | 'opaqueDirs'>): Promise<string> {
    const { size, files } = await treeSize(join(staging, 'fs'));
    const { source, opaqueDirs } = facts;
    const info: SnapshotInfo = { diffId, size, files, ...(source ? { source } : {}), ...(opaqueDirs ? { opaqueDirs } : {}), createdAt: new Date().toISOString() };
    await writeFile(join(staging, 'info.json'), canonicalJson(info) + '\n');
    await mkdir(this.layout.snapshotsDir, { recursive: true });
    try {
      await rename(staging, this.layout.snapshot(diffId));
    } catch (error) {
      // Another process installed the same snapshot first: keep theirs.
      if (!isCode(error, 'ENOTEMPTY') && !isCode(error, 'EEXIST')) throw error;
    }
    await fsyncDir(this.layout.snapshotsDir);
    return this.fsPath(diffId);
  }

  async remove(name: string): Promise<void> {
    // Rename aside first so a half-deleted snapshot is never mistaken for a whole one.
    const aside = join(this.layout.tmpDir, `dead.${name}.${process.pid}`);
    await mkdir(this.layout.tmpDir, { recursive: true });
    try {
      await rename(join(this.layout.snapshotsDir, name), aside);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return;
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  }
}

function storeErrorIn(error: unknown): StoreError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof StoreError) return e;
  return undefined;
}

/**
 * What a layer may fill: the free space, less a reserve so the disk is not filled to the last
 * byte. The layer module's fixed 64 MiB reserve would refuse every layer on a small store
 * disk, so the reserve shrinks to 1/16 of the file system there.
 */
async function spaceForLayer(dir: string): Promise<number> {
  const fs = await statfs(dir);
  const reserve = Math.min(64 << 20, (fs.blocks * fs.bsize) / 16);
  return Math.max(0, Math.floor(fs.bavail * fs.bsize - reserve));
}

/** Apparent size of a tree, each inode once. */
export async function treeSize(dir: string): Promise<{ size: number; files: number }> {
  const seen = new Set<number>();
  let size = 0;
  let files = 0;
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      const info = await lstat(child);
      files++;
      if (entry.isDirectory()) {
        await walk(child);
      } else if (!seen.has(info.ino)) {
        seen.add(info.ino);
        size += info.size;
      }
    }
  };
  await walk(dir);
  return { size, files };
}
