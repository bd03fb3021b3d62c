// Garbage collection, as containerd does it: take the GC lock, gather roots (tags, live
// leases, the cache records that stay), mark what they reach, sweep the rest. Which cache
// records stay is a pure policy (`selectCacheEvictions`). Writers wait while the GC lock is
// held (leases.ts), so nothing they are about to use disappears under them.

import { existsSync } from 'node:fs';
import type { Digest } from '../lib/digest.js';
import { acquireLock } from '../lib/lock.js';
import { orphanedSideRecords, removeSideRecords } from './build-side-records.js';
import type { CacheEntry } from './cache.js';
import { blobNode, mark, nodeKey, storeRefs, type GcNode } from './gc.js';
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
  const sizes = await objectSizes(store);
  const fixedRoots: GcNode[] = [
    ...(await store.tags.list()).map((t) => blobNode(t.descriptor)),
    ...(await leasedRoots(store)),
  ];
  const fixed = await mark(fixedRoots, refs);
  const entries = await store.cache.list();
  const entryNodes = new Map(entries.map((e) => [e, cacheRoots(e)]));
  const evicted = selectCacheEvictions(entries, {
    ...options,
    now: options.now ?? Date.now(),
    baseBytes: sumSizes(fixed.keys(), sizes),
    costOf: (entry, kept) => sumSizes(entryNodes.get(entry)!.map(nodeKey).filter((k) => !kept.has(k) && !fixed.has(k)), sizes),
    keysOf: (entry) => entryNodes.get(entry)!.map(nodeKey),
  });
  const keptEntries = entries.filter((e) => !evicted.has(e));
  const live = await mark([...fixedRoots, ...keptEntries.flatMap((e) => entryNodes.get(e)!)], refs);

  const report: PruneReport = {
    removedBlobs: 0, removedSnapshots: 0, removedCacheRecords: 0, removedLeftovers: 0, removedLogs: 0, removedCacheMounts: 0, removedContextCaches: 0, keptCacheMounts: false, reclaimedBytes: 0,
  };
  for (const entry of evicted) {
    await store.cache.remove(entry.file);
    report.removedCacheRecords++;
  }
  for (const [key, size] of sizes) {
    if (live.has(key)) continue;
    const [kind, digest] = splitKey(key);
    if (kind === 'blob') {
      await store.blobs.remove(digest);
      report.removedBlobs++;
    } else {
      await store.snapshots.remove(digest.slice('sha256:'.length));
      report.removedSnapshots++;
    }
    report.reclaimedBytes += size;
  }
  await pruneSideRecords(store, options, report);
  const leftovers = await findLeftovers(store.layout);
  await removeLeftovers(leftovers);
  report.removedLeftovers = leftovers.length;
  return report;
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

function cacheRoots(entry: CacheEntry): GcNode[] {
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
  /** Bytes keeping `entry` adds, given the object keys already kept. */
  costOf: (entry: CacheEntry, kept: Set<string>) => number;
  keysOf: (entry: CacheEntry) => string[];
}

/**
 * Which cache records go: all of them with `all`; those unused for longer than `until`; and,
 * with `keepStorage`, the least recently used ones once the most recently used have filled
 * the budget. Pure.
 */
export function selectCacheEvictions(entries: CacheEntry[], policy: EvictionPolicy): Set<CacheEntry> {
  if (policy.all) return new Set(entries);
  const evicted = new Set<CacheEntry>();
  const kept = new Set<string>();
  let total = policy.baseBytes;
  let full = false;
  for (const entry of [...entries].sort((a, b) => b.lastUsed - a.lastUsed)) {
    const tooOld = policy.until !== undefined && policy.now - entry.lastUsed > policy.until;
    const cost = policy.costOf(entry, kept);
    full ||= policy.keepStorage !== undefined && total + cost > policy.keepStorage;
    if (tooOld || full) {
      evicted.add(entry);
      continue;
    }
    total += cost;
    for (const key of policy.keysOf(entry)) kept.add(key);
  }
  return evicted;
}

/** Every blob and snapshot on disk, by GC key, with its size in bytes. */
export async function objectSizes(store: Store): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const hex of await store.blobs.list()) {
    if (!/^[a-f0-9]{64}$/.test(hex)) continue;
    const digest = `sha256:${hex}` as Digest;
    sizes.set(`blob:${digest}`, (await store.blobs.size(digest)) ?? 0);
  }
  for (const hex of await store.snapshots.list()) {
    if (!/^[a-f0-9]{64}$/.test(hex)) continue;
    const diffId = `sha256:${hex}` as Digest;
    sizes.set(`snapshot:${diffId}`, (await store.snapshots.info(diffId))?.size ?? 0);
  }
  return sizes;
}

function sumSizes(keys: Iterable<string>, sizes: Map<string, number>): number {
  let total = 0;
  for (const key of keys) total += sizes.get(key) ?? 0;
  return total;
}

function splitKey(key: string): ['blob' | 'snapshot', Digest] {
  const colon = key.indexOf(':');
  return [key.slice(0, colon) as 'blob' | 'snapshot', key.slice(colon + 1) as Digest];
}
