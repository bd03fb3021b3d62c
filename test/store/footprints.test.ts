// du and prune over snapshots that share a file by hard link, as an incremental COPY leaves
// them: the file's bytes count once in every total, it is shared between the images that use
// it, and pruning frees it only with its last link.

import { linkSync, lstatSync, writeFileSync } from 'node:fs';
import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, diskUsage, prune, verify, type DiskUsage } from '../../src/store/index.js';
import { layerOfDir, putTinyImage, tempDir, type TinyImage } from './store-helpers.js';

const BIG = 1 << 20;
const FIRST_TXT = 'first';
const SECOND_TXT = 'second!';

const stores: Store[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) {
    await store.close();
    await rm(store.root, { recursive: true, force: true });
  }
});

/**
 * Two tagged images, `first` and `second`, each with a layer whose snapshot holds big.bin:
 * second's is a hard link to first's, and each adds a small file of its own.
 */
async function linkedImages() {
  const store = await Store.open(await tempDir());
  stores.push(store);
  const firstDir = (await store.createTempDir('first')).path;
  writeFileSync(join(firstDir, 'big.bin'), Buffer.alloc(BIG, 7));
  writeFileSync(join(firstDir, 'first.txt'), FIRST_TXT);
  const firstLayer = await layerOfDir(store, firstDir);
  const firstFs = await store.commitSnapshot(firstLayer.diffId, firstDir);

  const secondDir = (await store.createTempDir('second')).path;
  linkSync(join(firstFs, 'big.bin'), join(secondDir, 'big.bin'));
  writeFileSync(join(secondDir, 'second.txt'), SECOND_TXT);
  const secondLayer = await layerOfDir(store, secondDir);
  const secondFs = await store.commitSnapshot(secondLayer.diffId, secondDir);

  const first = await putTinyImage(store, 'first image', [firstLayer]);
  const second = await putTinyImage(store, 'second image', [secondLayer]);
  await store.setTag('first', first.manifest);
  await store.setTag('second', second.manifest);
  expect(lstatSync(join(secondFs, 'big.bin')).nlink).toBe(2);
  return { store, first, second, firstLayer, secondLayer, secondFs };
}

/** Bytes of an image's blobs: manifest, config, layers (each blob is a file of its own). */
function blobBytes(image: TinyImage): number {
  return image.manifest.size + image.config.size + image.layers.reduce((n, layer) => n + layer.descriptor.size, 0);
}

function imageNamed(usage: DiskUsage, name: string) {
  return usage.images.find((image) => image.references.includes(name));
}

describe('du with snapshots sharing a file by hard link', () => {
  it('counts the file once in every total and as shared by both images', async () => {
    const { store, first, second } = await linkedImages();
    const usage = await diskUsage(store);
    expect(usage.snapshots).toEqual({ count: 2, size: BIG + FIRST_TXT.length + SECOND_TXT.length });
    expect(usage.blobs.size).toBe(blobBytes(first) + blobBytes(second));
    expect(usage.total).toBe(usage.blobs.size + usage.snapshots.size);
    expect(usage.imagesTotal).toBe(usage.total);
    expect(usage.reclaimable).toBe(0);
    expect(imageNamed(usage, 'first:latest')).toMatchObject({
      size: blobBytes(first) + BIG + FIRST_TXT.length,
      shared: BIG,
      unique: blobBytes(first) + FIRST_TXT.length,
    });
    expect(imageNamed(usage, 'second:latest')).toMatchObject({
      size: blobBytes(second) + BIG + SECOND_TXT.length,
      shared: BIG,
      unique: blobBytes(second) + SECOND_TXT.length,
    });
  });

  it('a file a cache record keeps through its own snapshot is shared, and counted in the images, not twice', async () => {
    const { store, first, second, firstLayer } = await linkedImages();
    await store.tags.remove(['first']);
    await store.putCacheRecord('copy-step', { layer: firstLayer, createdAt: '' });
    const usage = await diskUsage(store);
    expect(imageNamed(usage, 'second:latest')).toMatchObject({ shared: BIG, unique: blobBytes(second) + SECOND_TXT.length });
    expect(usage.cache.size).toBe(firstLayer.descriptor.size + FIRST_TXT.length);
    // first's manifest, config and own layer: nothing keeps them.
    expect(usage.reclaimable).toBe(blobBytes(first) - firstLayer.descriptor.size);
    expect(usage.total).toBe(usage.imagesTotal + usage.cache.size + usage.reclaimable);
  });

  it("an image's unique part holds a file whose other link only goes with the next prune", async () => {
    const { store, first, second } = await linkedImages();
    await store.tags.remove(['first']);
    const usage = await diskUsage(store);
    expect(usage.reclaimable).toBe(blobBytes(first) + FIRST_TXT.length);
    expect(imageNamed(usage, 'second:latest')).toMatchObject({ shared: 0, unique: blobBytes(second) + SECOND_TXT.length + BIG });
  });
});

describe('prune with snapshots sharing a file by hard link', () => {
  it('reclaims nothing for the file while a kept snapshot links it, and all of it with the last link', async () => {
    const { store, first, second, secondFs } = await linkedImages();
    await store.tags.remove(['first']);
    expect(await prune(store)).toMatchObject({ removedSnapshots: 1, reclaimedBytes: blobBytes(first) + FIRST_TXT.length });
    expect(lstatSync(join(secondFs, 'big.bin')).nlink).toBe(1);
    expect((await diskUsage(store)).snapshots).toEqual({ count: 1, size: BIG + SECOND_TXT.length });

    await store.tags.remove(['second']);
    expect(await prune(store)).toMatchObject({ removedSnapshots: 1, reclaimedBytes: blobBytes(second) + SECOND_TXT.length + BIG });
    expect((await verify(store)).problems).toEqual([]);
  });

  it('reclaims nothing for a file still linked from outside the store', async () => {
    const { store, first, second, secondFs } = await linkedImages();
    const outside = join(await tempDir(), 'big.bin');
    linkSync(join(secondFs, 'big.bin'), outside);
    try {
      await store.tags.remove(['first', 'second']);
      const report = await prune(store);
      expect(report).toMatchObject({ removedSnapshots: 2 });
      expect(report.reclaimedBytes).toBe(blobBytes(first) + blobBytes(second) + FIRST_TXT.length + SECOND_TXT.length);
    } finally {
      await rm(join(outside, '..'), { recursive: true, force: true });
    }
  });

  it('--keep-storage counts the file once: both cache records fit in one copy of it', async () => {
    const { store, firstLayer, secondLayer } = await linkedImages();
    await store.tags.remove(['first', 'second']);
    await store.putCacheRecord('older', { layer: firstLayer, createdAt: '' });
    await store.putCacheRecord('newer', { layer: secondLayer, createdAt: '' });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(store.layout.cacheRecord('older'), hourAgo, hourAgo);
    const bothOnce = firstLayer.descriptor.size + secondLayer.descriptor.size + BIG + FIRST_TXT.length + SECOND_TXT.length;

    expect(await prune(store, { keepStorage: bothOnce })).toMatchObject({ removedCacheRecords: 0, removedSnapshots: 0 });
    expect(await prune(store, { keepStorage: bothOnce - 1 })).toMatchObject({
      removedCacheRecords: 1,
      removedSnapshots: 1,
      reclaimedBytes: firstLayer.descriptor.size + FIRST_TXT.length,
    });
    expect(await store.getCacheRecord('newer')).toBeDefined();
  });
});
