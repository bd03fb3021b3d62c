// Garbage collection, as containerd does it: take the GC lock, gather roots (tags, live
// leases, the cache records that stay), mark what they reach, sweep the rest. Which cache
// records stay is a pure policy (`selectCacheEvictions`). Writers wait while the GC lock is
// held (leases.ts), so nothing they are about to use disappears under them.

import { existsSync } from 'node:fs';
import { digestHex } from '../lib/digest.js';
import { acquireLock } from '../lib/lock.js';
import { orphanedSideRecords, removeSideRecords } from './build-side-records.js';
import type { CacheEntry } from './cache.js';
import { Footprints, type ObjectSet } from './footprints.js';
import { blobNode, mark, nodeKey, parseNodeKey, storeRefs, type GcNode } from './gc.js';
import { readLeases } from './leases.js';
import { findLeftovers, removeLeftovers } from './leftovers.js';
import type { Store } from './store.js';

export interface PruneOptions {
  /**
   * Remove every cache record too (what tags and live leases hold stays), and the cache mount
   * dirs when no other process has the store open.
   */
  all?: boolean;
  /** Remove cache records unused for longer than this many milliseconds. */
  until?: number;
  /** Evict least recently used cache records until the store is at most this many bytes. */
  keepStorage?: number;
  /** Clock for until= (tests). */
  now?: number;
}

export interface PruneReport {
  removedBlobs: number;
  removedSnapshots: number;
  removedCacheRecords: number;
  removedLeftovers: number;
  /** Step logs and build records of what is gone. */
  removedLogs: number;
  removedCacheMounts: number;
  /** The contexts' remembered file digests: of gone dirs, or all with `--all` (the next build reads its context again). */
  removedContextCaches: number;
  /** Kept because another process had the store open (prune --all only). */
  keptCacheMounts: boolean;
  reclaimedBytes: number;
}

export async function prune(store: Store, options: PruneOptions = {}): Promise<PruneReport> {
  const lock = await acquireLock(store.layout.lock('gc'), { purpose: 'prune' });
  store.gcLockNonce = lock.holder.nonce;
  try {
    return await pruneLocked(store, options);
  } finally {
    store.gcLockNonce = undefined;
    await lock.release();
  }
}

async function pruneLocked(store: Store, options: PruneOptions): Promise<PruneReport> {
  const refs = storeRefs(store.blobs);
  const objects = await objectKeys(store);
  // Only a storage budget needs every object's bytes; otherwise only what goes is walked, not
  // the whole store while writers wait on the GC lock (and every cost below is 0, unused).
  const footprints = await new Footprints().read(store, options.keepStorage === undefined ? [] : objects);
  const fixedRoots: GcNode[] = [
    ...(await store.tags.list()).map((t) => blobNode(t.descriptor)),
    ...(await leasedRoots(store)),
  ];
  const fixed = await mark(fixedRoots, refs);
  const entries = await store.cache.list();
  const entryKeys = new Map(entries.map((e) => [e, cacheRoots(e).map(nodeKey)]));
  const evicted = selectCacheEvictions(entries, {
    ...options,
    now: options.now ?? Date.now(),
    ...storageCosts(footprints.set(fixed.keys()), (entry) => entryKeys.get(entry)!),
  });
  const keptEntries = entries.filter((e) => !evicted.has(e));
  const live = await mark([...fixedRoots, ...keptEntries.flatMap(cacheRoots)], refs);

  const report: PruneReport = {
    removedBlobs: 0, removedSnapshots: 0, removedCacheRecords: 0, removedLeftovers: 0, removedLogs: 0, removedCacheMounts: 0, removedContextCaches: 0, keptCacheMounts: false, reclaimedBytes: 0,
  };
  for (const entry of evicted) {
    await store.cache.remove(entry.file);
    report.removedCacheRecords++;
  }
  await removeObjects(store, footprints, objects.filter((key) => !live.has(key)), report);
  await pruneSideRecords(store, options, report);
  const leftovers = await findLeftovers(store.layout);
  await removeLeftovers(leftovers);
  report.removedLeftovers = leftovers.length;
  return report;
}

/**
 * What the eviction policy weighs: the bytes `kept` holds at first (what tags and leases reach),
 * and for each cache record the bytes it adds to those and to the records kept before it, each
 * inode once.
 */
function storageCosts(kept: ObjectSet, keysOf: (entry: CacheEntry) => string[]): Pick<EvictionPolicy, 'baseBytes' | 'costOf' | 'keep'> {
  return {
    baseBytes: kept.held(),
    costOf: (entry) => kept.growth(keysOf(entry)).held,
    keep: (entry) => void kept.add(keysOf(entry)),
  };
}

/** Removes the objects `dead`, counting the bytes that frees: a file also linked from what stays is not freed. */
async function removeObjects(store: Store, footprints: Footprints, dead: string[], report: PruneReport): Promise<void> {
  report.reclaimedBytes += (await footprints.read(store, dead)).set(dead).freed();
  for (const key of dead) {
    const node = parseNodeKey(key);
    if (node.kind === 'blob') {
      await store.blobs.remove(node.digest);
      report.removedBlobs++;
    } else {
      await store.snapshots.remove(digestHex(node.diffId));
      report.removedSnapshots++;
    }
  }
}

async function pruneSideRecords(store: Store, options: PruneOptions, report: PruneReport): Promise<void> {
  // A running build may be writing into a cache mount: with another process on the store, they stay.
  const othersLive = (await readLeases(store.layout)).some((l) => l.live && l.file !== store.implicitLeaseFile);
  report.keptCacheMounts = options.all === true && othersLive;
  const records = await orphanedSideRecords(store.layout, {
    hasCacheRecord: async (key) => existsSync(store.layout.cacheRecord(key)),
    hasBlob: (digest) => store.blobs.exists(digest),
    cacheMounts: options.all === true && !othersLive,
    contextCaches: options.all === true ? 'all' : 'orphaned',
  });
  await removeSideRecords(records);
  for (const record of records) {
    if (record.kind === 'cache mount') report.removedCacheMounts++;
    else if (record.kind === 'context cache') report.removedContextCaches++;
    else report.removedLogs++;
    report.reclaimedBytes += record.size;
  }
}

/** Live leases other than the pruning instance's own implicit one. */
async function leasedRoots(store: Store): Promise<GcNode[]> {
  const own = store.implicitLeaseFile;
  const digests = (await readLeases(store.layout)).filter((l) => l.live && l.file !== own).flatMap((l) => l.digests);
  return digests.flatMap((digest): GcNode[] => [{ kind: 'blob', digest }, { kind: 'snapshot', diffId: digest }]);
}

/** What a cache record keeps: its layer's blob and snapshot. */
export function cacheRoots(entry: CacheEntry): GcNode[] {
  const layer = entry.record.layer;
  return layer ? [blobNode(layer.descriptor), { kind: 'snapshot', diffId: layer.diffId }] : [];
}

export interface EvictionPolicy {
  all?: boolean;
  until?: number;
  keepStorage?: number;
  now: number;
  /** Bytes that stay whatever happens to the cache (tags, leases). */
  baseBytes: number;
  /** Bytes keeping `entry` adds to the base and to the entries kept before it. */
  costOf: (entry: CacheEntry) => number;
  /** Told of each entry kept, in the order asked, so that costOf can answer for the next one. */
  keep: (entry: CacheEntry) => void;
}

/**
 * Which cache records go: all of them with `all`; those unused for longer than `until`; and,
 * with `keepStorage`, the least recently used ones once the most recently used have filled
 * the budget. Pure but for the policy's callbacks.
 */
export function selectCacheEvictions(entries: CacheEntry[], policy: EvictionPolicy): Set<CacheEntry> {
  if (policy.all) return new Set(entries);
  const evicted = new Set<CacheEntry>();
  let total = policy.baseBytes;
  let full = false;
  for (const entry of [...entries].sort((a, b) => b.lastUsed - a.lastUsed)) {
    const tooOld = policy.until !== undefined && policy.now - entry.lastUsed > policy.until;
    const cost = policy.costOf(entry);
    full ||= policy.keepStorage !== undefined && total + cost > policy.keepStorage;
    if (tooOld || full) {
      evicted.add(entry);
      continue;
    }
    total += cost;
    policy.keep(entry);
  }
  return evicted;
}

/** Every blob and snapshot on disk, by GC key. */
export async function objectKeys(store: Store): Promise<string[]> {
  const hex = (names: string[]) => names.filter((name) => /^[a-f0-9]{64}$/.test(name));
  return [
    ...hex(await store.blobs.list()).map((h) => `blob:sha256:${h}`),
    ...hex(await store.snapshots.list()).map((h) => `snapshot:sha256:${h}`),
  ];
}
