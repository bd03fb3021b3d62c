// The remote cache: two stores standing for two CI runners share one cache through the
// registry (and through a directory). The second, empty store sees every record, and
// downloads a layer only when asked for it.

import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLayer, MediaType, type Manifest } from '../../src/layer/index.js';
import { exportCache, importCache, pushImage, withImportedCache, type CacheExportEntry } from '../../src/registry/index.js';
import { Store, load, imageLayers, type LayerRef } from '../../src/store/index.js';
import { BUSYBOX_REFERENCE, busyboxImageLayout } from '../helpers/busybox-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const FAST = { retryDelayMs: 20 };
const run = promisify(execFile);
let registry: TestRegistry;
let scratch: string;
let runner1: Store;
let entries: CacheExportEntry[];
let runLayer: LayerRef;
let builderLayer: LayerRef;

/** A layer holding one file, as a RUN step would leave it, stored uncompressed. */
async function makeLayer(store: Store, name: string, content: string): Promise<LayerRef> {
  const dir = join(scratch, `rootfs-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), content);
  const tarPath = join(scratch, `${name}.tar`);
  const written = await writeLayer(dir, createWriteStream(tarPath), { sourceDateEpoch: 0, kind: 'directory' });
  const { digest, size } = await store.ingest(createReadStream(tarPath), { digest: written.diffId });
  return { descriptor: { mediaType: MediaType.ociLayer, digest, size }, diffId: written.diffId };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsbuild-cache-test-'));
  registry = await startRegistry();
  runner1 = await Store.open(join(scratch, 'runner1'));
  await load(runner1, await busyboxImageLayout());
  const [base] = imageLayers((await runner1.getImage(BUSYBOX_REFERENCE))!);
  runLayer = await makeLayer(runner1, 'app', 'built by RUN\n');
  builderLayer = await makeLayer(runner1, 'builder', 'intermediate stage output\n');
  const createdAt = '1970-01-01T00:00:00Z';
  entries = [
    { key: 'key-from', record: { layer: base!, createdAt }, inOutput: true },
    { key: 'key-env', record: { layer: null, createdAt }, inOutput: true },
    { key: 'key-run', record: { layer: runLayer, createdAt }, inOutput: true },
    { key: 'key-builder', record: { layer: builderLayer, createdAt }, inOutput: false },
  ];
  for (const { key, record } of entries) await runner1.putCacheRecord(key, record);
});

afterAll(async () => {
  await registry?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('remote cache through a registry', () => {
  it('mode=max: an empty store gets every record and downloads only the layers it asks for', async () => {
    const ref = `${registry.host}/cache/app:buildcache`;
    const exported = await exportCache(runner1, entries, { type: 'registry', ref, mode: 'max' }, FAST);
    expect(exported).toMatchObject({ records: 4, layers: 3 });

    const runner2 = await Store.open(join(scratch, 'runner2'));
    const cache = await importCache(runner2, { type: 'registry', ref }, FAST);
    try {
      expect(cache.size).toBe(4);
      // A record without a layer is a hit at once; one with a layer is known but not fetched.
      expect(await runner2.getCacheRecord('key-env')).toEqual({ layer: null, createdAt: '1970-01-01T00:00:00Z' });
      expect(await runner2.getCacheRecord('key-run')).toBeUndefined();
      const layer = cache.get('key-run')!.layer!;
      const builder = cache.get('key-builder')!.layer!;
      // The record is runner 1's own (an uncompressed layer), though the wire carried gzip.
      expect(cache.get('key-run')).toEqual(entries[2]!.record);
      const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
      expect((JSON.parse(stdout) as Manifest).layers.map((l) => l.mediaType)).toEqual([MediaType.ociLayerGzip, MediaType.ociLayerGzip, MediaType.ociLayerGzip]);
      expect(await runner2.hasBlob(layer.descriptor.digest)).toBe(false);

      await cache.ensureLayer(layer);
      expect(await runner2.hasBlob(layer.descriptor.digest)).toBe(true); // decompressed, verified
      expect(await runner2.getCacheRecord('key-run')).toEqual(entries[2]!.record);
      const snapshot = await runner2.ensureSnapshot(layer);
      expect(await readFile(join(snapshot, 'app'), 'utf8')).toBe('built by RUN\n');

      // The intermediate stage's layer was never needed, so never downloaded.
      expect(await runner2.hasBlob(builder.descriptor.digest)).toBe(false);
      expect(await runner2.getCacheRecord('key-builder')).toBeUndefined();
    } finally {
      cache.close();
    }
  });

  it('withImportedCache: lookups hit through the import, a snapshot downloads its layer on first use', async () => {
    const ref = `${registry.host}/cache/app:buildcache`; // written by the test above
    const local = await Store.open(join(scratch, 'runner-hook'));
    const cache = await importCache(local, { type: 'registry', ref }, FAST);
    try {
      const store = withImportedCache(local, cache);
      const layer = (await store.getCacheRecord('key-run'))!.layer!;
      const builder = (await store.getCacheRecord('key-builder'))!.layer!;
      expect(await local.hasBlob(layer.descriptor.digest)).toBe(false);
      const snapshot = await store.ensureSnapshot(layer);
      expect(await readFile(join(snapshot, 'app'), 'utf8')).toBe('built by RUN\n');
      expect(await local.hasBlob(layer.descriptor.digest)).toBe(true);
      expect(await local.hasBlob(builder.descriptor.digest)).toBe(false);
      expect(await store.getCacheRecord('no-such-key')).toBeUndefined();
    } finally {
      cache.close();
    }
  });

  it('mode=min exports only the records of the output image', async () => {
    const ref = `${registry.host}/cache/app:min`;
    const exported = await exportCache(runner1, entries, { type: 'registry', ref, mode: 'min' }, FAST);
    expect(exported).toMatchObject({ records: 3, layers: 2 });
    const runner3 = await Store.open(join(scratch, 'runner3'));
    const cache = await importCache(runner3, { type: 'registry', ref }, { ...FAST, eager: true });
    cache.close();
    expect(cache.get('key-builder')).toBeUndefined();
    expect((await runner3.getCacheRecord('key-from'))?.layer?.diffId).toBe(entries[0]!.record.layer!.diffId);
    expect((await runner3.getCacheRecord('key-run'))?.layer?.diffId).toBe(runLayer.diffId);
  });

  it('a reference that is not a cache is refused with a clear error', async () => {
    const runner4 = await Store.open(join(scratch, 'runner4'));
    await pushImage(runner1, BUSYBOX_REFERENCE, `${registry.host}/plain/image:1`, FAST);
    await expect(importCache(runner4, { type: 'registry', ref: `${registry.host}/plain/image:1` }, FAST)).rejects.toMatchObject({
      code: 'E_REGISTRY_CACHE_FORMAT',
    });
  });
});

describe('remote cache in a shared directory', () => {
  it('type=local round-trips records and layers, uncompressed', async () => {
    const dest = join(scratch, 'shared-cache');
    const exported = await exportCache(runner1, entries, { type: 'local', dest, mode: 'max' });
    expect(exported).toMatchObject({ records: 4, layers: 3 });
    const runner5 = await Store.open(join(scratch, 'runner5'));
    const cache = await importCache(runner5, { type: 'local', src: dest }, { eager: true });
    for (const { key, record } of entries) expect(await runner5.getCacheRecord(key)).toEqual(record);
    expect(cache.size).toBe(4);
  });
});
