// What the store's objects (blobs and snapshots) hold on disk, inode by inode. An incremental
// COPY hard-links every file it would write unchanged from the snapshot of its previous run, so
// one inode can be in several snapshots, and a sum of object sizes counts it once per snapshot.
// du and prune therefore ask about *sets* of objects (the bytes they hold together, the bytes
// removing them frees) and answer over the inodes of the set.
//
// Why no attribution of a shared inode to one object (its oldest snapshot, say): any fixed
// attribution is right for some sets and wrong for others (the snapshot that carries the bytes
// may be the one pruned while the other stays), whereas a union over the set is right for
// every set. It stays cheap: a file with one link can be in one object only, so only files
// with more links are kept by inode; the rest is one byte count per object.

import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isCode } from '../lib/lock.js';
import { parseNodeKey } from './gc.js';
import type { Store } from './store.js';

interface Footprint {
  /** Bytes of the files with one link: no other object can hold them. */
  ownBytes: number;
  /** Files with more than one link, by inode, with how many of their links are in this object. */
  links: Map<string, number>;
}

interface LinkedInode {
  size: number;
  nlink: number;
}

export class Footprints {
  private readonly objects = new Map<string, Footprint>();
  private readonly inodes = new Map<string, LinkedInode>();

  /**
   * Reads the objects named by GC key (blob:…, snapshot:…) not read yet: a blob is one file,
   * a snapshot a tree walked once. An object that is gone holds nothing.
   */
  async read(store: Store, keys: Iterable<string>): Promise<this> {
    for (const key of keys) {
      if (this.objects.has(key)) continue;
      const footprint: Footprint = { ownBytes: 0, links: new Map() };
      const add = (stats: Stats) => this.addFile(footprint, stats);
      const node = parseNodeKey(key);
      if (node.kind === 'blob') forBlobFile(store.blobPath(node.digest), add);
      else await forEachFile(store.snapshots.fsPath(node.diffId), add);
      this.objects.set(key, footprint);
    }
    return this;
  }

  /** The objects `keys` as a set to measure (objects not read hold nothing). */
  set(keys: Iterable<string>): ObjectSet {
    return new ObjectSet(this).add(keys);
  }

  /** One object's files, if it was read (for ObjectSet). */
  footprint(key: string): Footprint | undefined {
    return this.objects.get(key);
  }

  /** Size and link count of a file with more than one link, by the id its footprints name it. */
  inode(id: string): LinkedInode {
    return this.inodes.get(id)!;
  }

  private addFile(footprint: Footprint, stats: Stats): void {
    if (stats.nlink < 2) {
      footprint.ownBytes += stats.size;
      return;
    }
    const id = `${stats.dev}:${stats.ino}`;
    this.inodes.set(id, { size: stats.size, nlink: stats.nlink });
    footprint.links.set(id, (footprint.links.get(id) ?? 0) + 1);
  }
}

/**
 * A set of objects: the bytes they hold together (each inode once) and the bytes removing them
 * would free (an inode only once every one of its links, by its link count, is in the set; a
 * link elsewhere, in an object kept or outside the store, keeps the bytes on disk).
 */
export class ObjectSet {
  private readonly footprints: Footprints;
  private readonly keys = new Set<string>();
  private ownBytes = 0;
  private readonly links = new Map<string, number>();

  constructor(footprints: Footprints) {
    this.footprints = footprints;
  }

  add(keys: Iterable<string>): this {
    for (const key of keys) {
      const footprint = this.footprints.footprint(key);
      if (this.keys.has(key) || footprint === undefined) continue;
      this.keys.add(key);
      this.ownBytes += footprint.ownBytes;
      for (const [id, count] of footprint.links) this.links.set(id, (this.links.get(id) ?? 0) + count);
    }
    return this;
  }

  held(): number {
    let bytes = this.ownBytes;
    for (const id of this.links.keys()) bytes += this.footprints.inode(id).size;
    return bytes;
  }

  freed(): number {
    let bytes = this.ownBytes;
    for (const [id, count] of this.links) {
      const { size, nlink } = this.footprints.inode(id);
      if (count >= nlink) bytes += size;
    }
    return bytes;
  }

  /**
   * What adding `keys` would add to held() and freed(), without adding them: costs only their
   * own inodes, so asking it for many small sets against one large set stays cheap.
   */
  growth(keys: Iterable<string>): { held: number; freed: number } {
    const extra = this.footprints.set([...keys].filter((key) => !this.keys.has(key)));
    let held = extra.ownBytes;
    let freed = extra.ownBytes;
    for (const [id, count] of extra.links) {
      const { size, nlink } = this.footprints.inode(id);
      const before = this.links.get(id) ?? 0;
      if (before === 0) held += size;
      if (before < nlink && before + count >= nlink) freed += size;
    }
    return { held, freed };
  }
}

/** Visits a blob's file, if it is there. */
function forBlobFile(path: string, visit: (stats: Stats) => void): void {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  if (stats?.isFile()) visit(stats);
}

/**
 * Visits the lstat of every entry under `dir` but directories (their own size is not counted,
 * as in a snapshot's info.json). Sync calls a directory at a time, with a turn of the event
 * loop between directories: measured here, one promise per file took about 2.5 times as long.
 * Entries removed while walked (a concurrent prune) are passed over.
 */
async function forEachFile(dir: string, visit: (stats: Stats) => void): Promise<void> {
  const pending = [dir];
  while (pending.length > 0) {
    const path = pending.pop()!;
    for (const entry of readdirIfThere(path)) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        pending.push(child);
        continue;
      }
      const stats = lstatSync(child, { throwIfNoEntry: false });
      if (stats) visit(stats);
    }
    await nextTurn();
  }
}

function readdirIfThere(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch (error) {
    if (isCode(error, 'ENOENT')) return [];
    throw error;
  }
}
