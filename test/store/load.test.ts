// load: OCI layouts (directory, tar, gzipped tar) and docker save archives, written by our
// fixture and by skopeo; damaged archives fail without leaving a tag.

import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm, writeFile, mkdir, cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from 'tar-stream';
import { digestHex } from '../../src/lib/digest.js';
import type { Index, Manifest } from '../../src/layer/index.js';
import { Store, imageLayers, load, verify } from '../../src/store/index.js';
import { busyboxImageLayout, busyboxImageTar, writeLayoutTar } from '../helpers/busybox-image.js';
import { tempDir } from './store-helpers.js';

let work: string;
beforeAll(async () => {
  work = await tempDir('tsbuild-load-');
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function freshStore(): Promise<Store> {
  return Store.open(await tempDir());
}

async function expectClean(store: Store): Promise<void> {
  expect((await verify(store)).problems).toEqual([]);
  await store.close();
  await rm(store.root, { recursive: true, force: true });
}

describe('load', () => {
  it('loads a gzipped OCI layout tar and keeps the base layer digests as they are', async () => {
    const gz = join(work, 'busybox.tar.gz');
    await pipeline(createReadStream(await busyboxImageTar()), createGzip(), createWriteStream(gz));
    const store = await freshStore();
    const [image] = await load(store, gz);
    expect(image!.references).toEqual(['docker.io/library/busybox:latest']);
    const index = JSON.parse(await readFile(join(await busyboxImageLayout(), 'index.json'), 'utf8')) as Index;
    expect(image!.descriptor.digest).toBe(index.manifests[0]!.digest);
    await expectClean(store);
  });

  it('loads docker-archive and oci-archive files written by skopeo', async () => {
    const layout = await busyboxImageLayout();
    const dockerArchive = join(work, 'docker.tar');
    const ociArchive = join(work, 'oci.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${layout}`, `docker-archive:${dockerArchive}:example.com/tools/busybox:1`]);
    execFileSync('skopeo', ['copy', '-q', `oci:${layout}`, `oci-archive:${ociArchive}:docker.io/library/busybox:skopeo`]);
    const store = await freshStore();
    const [fromDocker] = await load(store, dockerArchive);
    expect(fromDocker!.references).toEqual(['example.com/tools/busybox:1']);
    const [fromOci] = await load(store, ociArchive);
    expect(fromOci!.references).toEqual(['docker.io/library/busybox:skopeo']);
    // Both carry the same single layer: its diffID and its unpacked files agree.
    const a = await store.getImage('example.com/tools/busybox:1');
    const b = await store.getImage('busybox:skopeo');
    expect(imageLayers(a!)[0]!.diffId).toBe(imageLayers(b!)[0]!.diffId);
    const snapshot = await store.ensureSnapshot(imageLayers(a!)[0]!);
    expect((await readdir(join(snapshot, 'bin'))).includes('busybox')).toBe(true);
    await expectClean(store);
  });

  it('loads a legacy docker save archive (layer.tar dirs, a symlinked duplicate layer)', async () => {
    const layout = await busyboxImageLayout();
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
    const manifest = JSON.parse(await readFile(join(layout, 'blobs/sha256', digestHex(index.manifests[0]!.digest)), 'utf8')) as Manifest;
    const config = JSON.parse(await readFile(join(layout, 'blobs/sha256', digestHex(manifest.config.digest)), 'utf8'));
    const layer = await readFile(join(layout, 'blobs/sha256', digestHex(manifest.layers[0]!.digest)));
    // The same layer twice, as docker writes it when two layers are identical.
    config.rootfs.diff_ids = [manifest.layers[0]!.digest, manifest.layers[0]!.digest];
    const configBytes = Buffer.from(JSON.stringify(config));
    const tarPath = join(work, 'legacy.tar');
    const tar = pack();
    const done = pipeline(tar, createWriteStream(tarPath));
    const entry = (name: string, data: Buffer) => new Promise<void>((resolve, reject) => tar.entry({ name, size: data.length }, data, (e) => (e ? reject(e) : resolve())));
    await entry('aaaa/layer.tar', layer);
    await new Promise<void>((resolve, reject) => tar.entry({ name: 'bbbb/layer.tar', type: 'symlink', linkname: '../aaaa/layer.tar' }, (e) => (e ? reject(e) : resolve())));
    await entry('cfg.json', configBytes);
    await entry('manifest.json', Buffer.from(JSON.stringify([{ Config: 'cfg.json', RepoTags: ['legacy:1'], Layers: ['aaaa/layer.tar', 'bbbb/layer.tar'] }])));
    tar.finalize();
    await done;
    const store = await freshStore();
    const [image] = await load(store, tarPath);
    expect(image!.references).toEqual(['docker.io/library/legacy:1']);
    const stored = await store.getImage('legacy:1');
    expect(stored!.manifest.layers.map((l) => l.digest)).toEqual([manifest.layers[0]!.digest, manifest.layers[0]!.digest]);
    expect(stored!.manifest.layers[0]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    await expectClean(store);
  });

  it('-t names the image instead of the archive', async () => {
    const store = await freshStore();
    const [image] = await load(store, await busyboxImageLayout(), { tag: 'base:1' });
    expect(image!.references).toEqual(['docker.io/library/base:1']);
    expect(await store.resolveTag('busybox')).toBeUndefined();
    await expectClean(store);
  });

  it('an archive missing a blob fails, naming it, and tags nothing', async () => {
    const layout = join(work, 'missing-blob');
    await cp(await busyboxImageLayout(), layout, { recursive: true });
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
    const manifest = JSON.parse(await readFile(join(layout, 'blobs/sha256', digestHex(index.manifests[0]!.digest)), 'utf8')) as Manifest;
    await rm(join(layout, 'blobs/sha256', digestHex(manifest.layers[0]!.digest)));
    const store = await freshStore();
    await expect(load(store, layout)).rejects.toThrow(`needs blob ${manifest.layers[0]!.digest}`);
    expect(await store.tags.list()).toEqual([]);
    await expectClean(store);
  });

  it('a blob whose bytes do not match its name fails with StoreError(corrupt) and tags nothing', async () => {
    const layout = join(work, 'bad-blob');
    await cp(await busyboxImageLayout(), layout, { recursive: true });
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
    const manifestPath = join(layout, 'blobs/sha256', digestHex(index.manifests[0]!.digest));
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    await writeFile(join(layout, 'blobs/sha256', digestHex(manifest.config.digest)), '{"tampered":true}');
    const tarPath = join(work, 'bad-blob.tar');
    await writeLayoutTar(layout, tarPath);
    const store = await freshStore();
    await expect(load(store, tarPath)).rejects.toMatchObject({ kind: 'corrupt', message: expect.stringContaining(manifest.config.digest) });
    expect(await store.tags.list()).toEqual([]);
    await expectClean(store);
  });

  it('a truncated tar fails and tags nothing; neither an archive at all', async () => {
    const full = await readFile(await busyboxImageTar());
    const truncated = join(work, 'truncated.tar');
    await writeFile(truncated, full.subarray(0, Math.floor(full.length / 2)));
    const notArchive = join(work, 'plain');
    await mkdir(notArchive, { recursive: true });
    await writeFile(join(notArchive, 'README'), 'hi');
    const store = await freshStore();
    await expect(load(store, truncated)).rejects.toMatchObject({ kind: 'invalid', message: expect.stringContaining(`cannot read ${truncated}`) });
    await expect(load(store, notArchive)).rejects.toThrow('neither an OCI image layout');
    expect(await store.tags.list()).toEqual([]);
    await expectClean(store);
  });
});
