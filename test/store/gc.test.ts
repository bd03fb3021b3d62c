// GC: the pure mark, the cache eviction policy, prune against tags, cache records and leases,
// and du's sharing arithmetic.

import { mkdir, mkdtemp, utimes, writeFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/digest.js';
import { acquireLock } from '../../src/lib/lock.js';
import { Store, diskUsage, mark, prune, selectCacheEvictions, verify, type GcNode } from '../../src/store/index.js';
import type { CacheEntry } from '../../src/store/cache.js';
import { layerOf, putTinyImage, tempDir } from './store-helpers.js';

const stores: Store[] = [];
async function openStore(root?: string): Promise<Store> {
  const store = await Store.open(root ?? (await tempDir()));
  stores.push(store);
  return store;
}
afterEach(async () => {
  for (const store of stores.splice(0)) {
    await store.close();
    await rm(store.root, { recursive: true, force: true });
  }
});

describe('mark', () => {
  it('reaches exactly what the roots reach, through cycles', async () => {
    const n = (name: string): GcNode => ({ kind: 'blob', digest: sha256(name) });
    const edges: Record<string, string[]> = { a: ['b', 'c'], b: ['a'], c: ['d'], d: [], e: ['a'], f: [] };
    const names = new Map(Object.keys(edges).map((k) => [sha256(k), k]));
    const marked = await mark([n('a')], (node) => edges[names.get((node as { digest: `sha256:${string}` }).digest)!]!.map(n));
    expect([...marked.values()].map((node) => names.get((node as { digest: `sha256:${string}` }).digest)).sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('selectCacheEvictions', () => {
  const entry = (key: string, lastUsed: number): CacheEntry => ({ key, lastUsed, file: key, record: { layer: null, createdAt: '' } });
  const entries = [entry('old', 1_000), entry('mid', 5_000), entry('new', 9_000)];
  const policy = { now: 10_000, baseBytes: 100, costOf: () => 50, keep: () => {} };
  const keys = (set: Set<CacheEntry>) => [...set].map((e) => e.key).sort();

  it('all: every record', () => {
    expect(keys(selectCacheEvictions(entries, { ...policy, all: true }))).toEqual(['mid', 'new', 'old']);
  });
  it('until: records unused for longer', () => {
    expect(keys(selectCacheEvictions(entries, { ...policy, until: 6_000 }))).toEqual(['old']);
  });
  it('keepStorage: most recently used first until the budget is full', () => {
    expect(keys(selectCacheEvictions(entries, { ...policy, keepStorage: 200 }))).toEqual(['old']);
    expect(keys(selectCacheEvictions(entries, { ...policy, keepStorage: 149 }))).toEqual(['mid', 'new', 'old']);
  });
  it('nothing without options', () => {
    expect(keys(selectCacheEvictions(entries, policy))).toEqual([]);
  });
});

describe('prune', () => {
  it('removes untagged images and their snapshots; keeps tagged ones and cached layers', async () => {
    const store = await openStore();
    const shared = await layerOf(store, { 'shared.txt': 'shared' });
    const kept = await putTinyImage(store, 'kept', [shared]);
    const dropped = await putTinyImage(store, 'dropped', [shared]);
    const cached = await layerOf(store, { 'cached.txt': 'cached' });
    await store.setTag('kept', kept.manifest);
    await store.putCacheRecord(sha256('step'), { layer: cached, createdAt: 'now' });
    for (const layer of [...kept.layers, dropped.layer, cached]) await store.ensureSnapshot(layer);

    const report = await prune(store);
    expect(report).toMatchObject({ removedBlobs: 3, removedSnapshots: 1, removedCacheRecords: 0 });
    for (const gone of [dropped.manifest, dropped.config, dropped.layer.descriptor]) expect(existsSync(store.blobPath(gone.digest))).toBe(false);
    expect(existsSync(join(store.root, 'snapshots', dropped.layer.diffId.slice(7)))).toBe(false);
    expect(await store.getImage('kept')).toBeDefined();
    expect(await store.hasBlob(shared.descriptor.digest)).toBe(true);
    expect(await store.getCacheRecord(sha256('step'))).toBeDefined();
    expect((await verify(store)).problems).toEqual([]);
  });

  it('until= drops cache records unused for longer, --all drops every one; tagged images stay', async () => {
    const store = await openStore();
    const image = await putTinyImage(store, 'tagged');
    await store.setTag('tagged', image.manifest);
    const old = await layerOf(store, { old: 'old' });
    const recent = await layerOf(store, { recent: 'recent' });
    await store.putCacheRecord('old-key', { layer: old, createdAt: 'then' });
    await store.putCacheRecord('recent-key', { layer: recent, createdAt: 'now' });
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(store.layout.cacheRecord('old-key'), twoHoursAgo, twoHoursAgo);

    expect(await prune(store, { until: 3_600_000 })).toMatchObject({ removedCacheRecords: 1, removedBlobs: 1 });
    expect(await store.hasBlob(old.descriptor.digest)).toBe(false);
    expect(await store.getCacheRecord('recent-key')).toBeDefined();

    expect(await prune(store, { all: true })).toMatchObject({ removedCacheRecords: 1, removedBlobs: 1 });
    expect(await store.getCacheRecord('recent-key')).toBeUndefined();
    expect(await store.getImage('tagged')).toBeDefined();
    expect((await verify(store)).problems).toEqual([]);
  });

  it('keep-storage evicts least recently used cache records until the store fits', async () => {
    const store = await openStore();
    const layers = [];
    for (const [i, age] of [3, 2, 1].entries()) {
      const layer = await layerOf(store, { [`f${i}`]: 'x'.repeat(20_000) });
      await store.putCacheRecord(`k${i}`, { layer, createdAt: '' });
      const when = new Date(Date.now() - age * 60_000);
      await utimes(store.layout.cacheRecord(`k${i}`), when, when);
      layers.push(layer);
    }
    // Room for the newest record's layer only.
    await prune(store, { keepStorage: layers[2]!.descriptor.size + 1000 });
    expect(await store.getCacheRecord('k2')).toBeDefined();
    expect(await store.getCacheRecord('k1')).toBeUndefined();
    expect(await store.getCacheRecord('k0')).toBeUndefined();
  });

  it('never removes what a lease holds, and a released lease protects nothing', async () => {
    const builder = await openStore();
    const image = await putTinyImage(builder, 'leased');
    const lease = await builder.acquireLease([image.manifest.digest]);
    await builder.close(); // only the explicit lease protects it now
    const pruner = await openStore(builder.root);
    await prune(pruner);
    expect(await pruner.getImage(image.manifest.digest)).toBeDefined();
    await lease.release();
    await prune(pruner);
    expect(existsSync(pruner.blobPath(image.manifest.digest))).toBe(false);
    expect(existsSync(pruner.blobPath(image.layer.descriptor.digest))).toBe(false);
  });

  it("another live instance's implicit lease protects what it wrote until it closes", async () => {
    const builder = await openStore();
    const image = await putTinyImage(builder, 'in progress');
    const pruner = await openStore(builder.root);
    expect((await prune(pruner)).removedBlobs).toBe(0);
    await builder.close();
    expect((await prune(pruner)).removedBlobs).toBe(3);
    expect(await pruner.hasBlob(image.manifest.digest)).toBe(false);
  });

  it('a writer waits while a prune holds the GC lock, then goes on', async () => {
    const store = await openStore();
    const image = await putTinyImage(store, 'barrier');
    const gc = await acquireLock(store.layout.lock('gc'), { purpose: 'prune' });
    let settled = false;
    const lookup = store.hasBlob(image.manifest.digest).then((found) => {
      settled = true;
      return found;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(settled).toBe(false);
    await gc.release();
    expect(await lookup).toBe(true);
  });

  it('a lease of a SIGKILLed process (dead pid) blocks nothing and is cleaned up', async () => {
    const store = await openStore();
    const image = await putTinyImage(store, 'orphan');
    const leaseFile = join(store.root, 'leases', '999999999.1.deadbeef.lease');
    await writeFile(leaseFile, `${JSON.stringify({ pid: 999_999_999, start: '1', createdAt: '', purpose: 'killed build' })}\n${image.manifest.digest}\n`);
    await store.close();
    expect((await verify(store)).leftovers.map((l) => l.path)).toContain(leaseFile);
    const report = await prune(store);
    expect(report.removedBlobs).toBe(3);
    expect(existsSync(leaseFile)).toBe(false);
  });

  it("a killed build's step lock is removed through the lock protocol; a live one stays", async () => {
    const store = await openStore();
    const dead = store.layout.lock(`step-${'a'.repeat(64)}`);
    await writeFile(dead, JSON.stringify({ pid: 999_999_999, start: '1', nonce: 'n', acquiredAt: '', purpose: 'running a build step' }));
    const live = await store.claimStep(sha256('running now'), { signal: new AbortController().signal });
    expect((await verify(store)).leftovers).toEqual([{ path: dead, what: 'lock of a dead process' }]);
    expect((await prune(store)).removedLeftovers).toBe(1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(store.layout.lock(`step-${sha256('running now').slice(7)}`))).toBe(true);
    await live.release();
  });
});

describe('prune of what builds keep beside the objects', () => {
  const keyA = sha256('step a');
  const keyB = sha256('step b');
  async function writeSide(path: string, text = 'x'): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }

  it('a step log goes with its cache record, a build record with its image', async () => {
    const store = await openStore();
    const kept = await putTinyImage(store, 'kept');
    await store.setTag('kept', kept.manifest);
    const dropped = await putTinyImage(store, 'dropped');
    await store.putCacheRecord(keyA, { layer: null, createdAt: '' });
    for (const key of [keyA, keyB]) await writeSide(store.layout.stepLog(key), 'output\n');
    for (const image of [kept, dropped]) await writeSide(store.layout.buildRecord(image.manifest.digest), '{}');
    // A log being written when its process was killed (lib/atomic.ts's temp name, a dead pid).
    const deadTemp = join(store.layout.logsDir, '.tmp-step-3-999999999-0123456789ab');
    await writeSide(deadTemp);
    await store.close(); // its lease would keep the untagged image

    expect((await diskUsage(store)).logs).toEqual({ count: 5, size: 'output\n'.length * 2 + 2 * 2 + 1 });
    const report = await prune(store);
    expect(report).toMatchObject({ removedLogs: 2, removedCacheMounts: 0, removedLeftovers: 1 });
    expect(existsSync(store.layout.stepLog(keyA))).toBe(true);
    expect(existsSync(store.layout.stepLog(keyB))).toBe(false);
    expect(existsSync(store.layout.buildRecord(kept.manifest.digest))).toBe(true);
    expect(existsSync(store.layout.buildRecord(dropped.manifest.digest))).toBe(false);
    expect(existsSync(deadTemp)).toBe(false);

    // Context caches: one per context dir; a CI job's checkout dir is often gone after the job.
    const liveContext = await mkdtemp(join(tmpdir(), 'tsbuild-gc-context-'));
    const goneContext = join(liveContext, 'gone');
    const contextCache = (dir: string | undefined, name = dir ?? '/unnamed') => {
      const path = store.layout.contextCache(name);
      return writeSide(path, JSON.stringify({ format: 1, contextDir: dir, entries: {} })).then(() => path);
    };
    const live = await contextCache(liveContext);
    const gone = await contextCache(goneContext);
    const unnamed = await contextCache(undefined);
    expect(await prune(store)).toMatchObject({ removedContextCaches: 1 });
    expect([existsSync(live), existsSync(gone), existsSync(unnamed)]).toEqual([true, false, true]);

    expect(await prune(store, { all: true })).toMatchObject({ removedCacheRecords: 1, removedLogs: 1, removedContextCaches: 2 });
    expect(existsSync(store.layout.stepLog(keyA))).toBe(false);
    expect([existsSync(live), existsSync(unnamed)]).toEqual([false, false]);
    await rm(liveContext, { recursive: true });
    expect(existsSync(store.layout.buildRecord(kept.manifest.digest))).toBe(true);
  });

  it('cache mounts go with --all only, and not while another process has the store open', async () => {
    const store = await openStore();
    const mount = store.layout.cacheMount('npm');
    await writeSide(join(mount, 'pkg/index.js'), 'x'.repeat(5000));
    expect(await prune(store)).toMatchObject({ removedCacheMounts: 0, keptCacheMounts: false });
    expect(existsSync(mount)).toBe(true);
    expect((await diskUsage(store)).cacheMounts).toEqual({ count: 1, size: 5000 });

    const other = await openStore(store.root);
    const lease = await other.acquireLease([]);
    expect(await prune(store, { all: true })).toMatchObject({ removedCacheMounts: 0, keptCacheMounts: true });
    expect(existsSync(mount)).toBe(true);

    await lease.release();
    const report = await prune(store, { all: true });
    expect(report).toMatchObject({ removedCacheMounts: 1, keptCacheMounts: false });
    expect(report.reclaimedBytes).toBeGreaterThanOrEqual(5000);
    expect(existsSync(mount)).toBe(false);
    expect((await diskUsage(store)).cacheMounts).toEqual({ count: 0, size: 0 });
  });
});

describe('du', () => {
  it('counts layers shared between images once and splits each image into shared and unique', async () => {
    const store = await openStore();
    const base = await layerOf(store, { 'base.bin': 'b'.repeat(50_000) });
    const a = await putTinyImage(store, 'a'.repeat(10_000), [base]);
    const b = await putTinyImage(store, 'b'.repeat(20_000), [base]);
    await store.setTag('a', a.manifest);
    await store.setTag('b', b.manifest);
    await store.setTag('b:alias', b.manifest);
    await store.ensureSnapshot(base);
    const baseSnapshot = (await store.snapshots.info(base.diffId))!.size;
    expect(baseSnapshot).toBe(50_000);

    const usage = await diskUsage(store);
    const own = (img: typeof a) => img.manifest.size + img.config.size + img.layer.descriptor.size;
    const sharedBytes = base.descriptor.size + baseSnapshot;
    const byName = Object.fromEntries(usage.images.map((i) => [i.references.join(','), i]));
    expect(byName['a:latest']).toMatchObject({ size: own(a) + sharedBytes, shared: sharedBytes, unique: own(a) });
    expect(byName['b:alias,b:latest']).toMatchObject({ size: own(b) + sharedBytes, shared: sharedBytes, unique: own(b) });
    expect(usage.imagesTotal).toBe(own(a) + own(b) + sharedBytes);
    expect(usage.total).toBe(usage.imagesTotal);
    expect(usage.snapshots).toEqual({ count: 1, size: baseSnapshot });
    expect(usage.reclaimable).toBe(0);

    const loose = await layerOf(store, { loose: 'x' });
    expect((await diskUsage(store)).reclaimable).toBe(loose.descriptor.size);

    // A cache record keeps a's own layer: removing a alone no longer frees it.
    await store.putCacheRecord(sha256('a step'), { layer: a.layer, createdAt: '' });
    const cached = (await diskUsage(store)).images.find((i) => i.references.includes('a:latest'));
    expect(cached).toMatchObject({ shared: sharedBytes + a.layer.descriptor.size, unique: own(a) - a.layer.descriptor.size });
  });
});
