// Push and pull against a real docker-registry on loopback: digests survive the round trip,
// skopeo reads what we push, layers are compressed on the way out and the config is not.

import { execFile } from 'node:child_process';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, type ImageConfig, type Index, type Manifest } from '../../src/layer/oci.js';
import { pullImage, pushImage } from '../../src/registry/index.js';
import { Store, hostPlatform, load, verify } from '../../src/store/index.js';
import { BUSYBOX_REFERENCE, busyboxImageLayout } from '../helpers/busybox-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const run = promisify(execFile);
const FAST = { retryDelayMs: 20 };

let registry: TestRegistry;
let scratch: string;

async function newStore(name: string): Promise<Store> {
  return Store.open(join(scratch, name));
}

async function skopeoInspect(ref: string, raw = false): Promise<Record<string, unknown>> {
  const { stdout } = await run('skopeo', ['inspect', ...(raw ? ['--raw'] : []), '--tls-verify=false', `docker://${ref}`]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsbuild-registry-test-'));
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('push and pull', () => {
  it('pushes busybox compressed, skopeo reads it, and a pull gets the same digests back', async () => {
    const source = await newStore('source');
    await load(source, await busyboxImageLayout());
    const local = (await source.getImage(BUSYBOX_REFERENCE))!;
    const remote = `${registry.host}/team/busybox:1`;

    const firstCompressions: string[] = [];
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, remote, { ...FAST, onEvent: (e) => e.type === 'transfer' && e.id.startsWith('compress:') && firstCompressions.push(e.id) });
    expect(pushed.reference).toBe(remote);
    expect(new Set(firstCompressions)).toEqual(new Set([`compress:${local.manifest.layers[0]!.digest}`]));

    const raw = (await skopeoInspect(remote, true)) as unknown as Manifest;
    expect(raw.config.digest).toBe(local.manifest.config.digest); // config unchanged: diff_ids stay
    expect(raw.layers.map((l) => l.mediaType)).toEqual([MediaType.ociLayerGzip]);
    expect(raw.layers[0]!.digest).not.toBe(local.manifest.layers[0]!.digest);
    const inspected = await skopeoInspect(remote);
    expect(inspected.Digest).toBe(pushed.descriptor.digest);
    expect(inspected.Layers).toEqual([raw.layers[0]!.digest]);

    const target = await newStore('target');
    const pulled = await pullImage(target, remote, FAST);
    expect(pulled.manifest.digest).toBe(pushed.descriptor.digest);
    const image = (await target.getImage(remote))!;
    expect(image.config.rootfs.diff_ids).toEqual(local.config.rootfs.diff_ids);
    expect(await target.hasBlob(raw.layers[0]!.digest)).toBe(true);

    // Pushing the pulled (already compressed) image elsewhere gives the very same manifest,
    // and so does pushing the uncompressed original again: compression is deterministic.
    // The blobs are in team/busybox on the same registry: mounted, not uploaded.
    const uploads: string[] = [];
    const again = await pushImage(target, remote, `${registry.host}/other/busybox:copy`, { ...FAST, onEvent: (e) => e.type === 'transfer' && uploads.push(e.id) });
    expect(again.descriptor.digest).toBe(pushed.descriptor.digest);
    expect(uploads).toEqual([]);
    expect((await skopeoInspect(`${registry.host}/other/busybox:copy`)).Layers).toEqual([raw.layers[0]!.digest]);
    // The second push of the uncompressed original finds its gzip form in the store's cache.
    const compressions: string[] = [];
    const repeat = await pushImage(source, BUSYBOX_REFERENCE, `${registry.host}/fresh/busybox:2`, {
      ...FAST,
      onEvent: (e) => e.type === 'transfer' && e.id.startsWith('compress:') && compressions.push(e.id),
    });
    expect(repeat.descriptor.digest).toBe(pushed.descriptor.digest);
    expect(compressions).toEqual([]);
    expect((await verify(source)).problems).toEqual([]); // the remembered gzip form is a sound cache record
    expect((await skopeoInspect(`${registry.host}/fresh/busybox:2`)).Layers).toEqual([raw.layers[0]!.digest]);
  });
});

describe('multi-platform images', () => {
  it('pushes an index of two platforms and pulls the host one, or the one asked for', async () => {
    const source = await newStore('multi-source');
    await load(source, await busyboxImageLayout());
    const host = (await source.getImage(BUSYBOX_REFERENCE))!;
    const other = hostPlatform().architecture === 'arm64' ? 'amd64' : 'arm64';
    const otherConfig = await source.putJson({ ...host.config, architecture: other } satisfies ImageConfig, MediaType.ociConfig);
    const otherManifest = await source.putJson({ ...host.manifest, config: otherConfig } satisfies Manifest, MediaType.ociManifest);
    const index = await source.putJson(
      {
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          { ...host.manifestDescriptor, platform: hostPlatform() },
          { ...otherManifest, platform: { os: 'linux', architecture: other } },
        ],
      } satisfies Index,
      MediaType.ociIndex,
    );
    await source.setTag('local/multi:1', index);
    const remote = `${registry.host}/multi/busybox:1`;
    const pushed = await pushImage(source, 'local/multi:1', remote, FAST);

    const raw = (await skopeoInspect(remote, true)) as unknown as Index;
    expect(raw.mediaType).toBe(MediaType.ociIndex);
    expect(raw.manifests.map((m) => m.platform?.architecture).sort()).toEqual([hostPlatform().architecture, other].sort());
    const hostChild = raw.manifests.find((m) => m.platform?.architecture === hostPlatform().architecture)!;
    const otherChild = raw.manifests.find((m) => m.platform?.architecture === other)!;

    const byDefault = await newStore('multi-default');
    const pulled = await pullImage(byDefault, remote, FAST);
    expect(pulled.index?.digest).toBe(pushed.descriptor.digest);
    expect(pulled.manifest.digest).toBe(hostChild.digest);
    expect((await byDefault.getImage(remote))!.config.architecture).toBe(hostPlatform().architecture);

    const chosen = await newStore('multi-chosen');
    const pulledOther = await pullImage(chosen, remote, { ...FAST, platform: { os: 'linux', architecture: other } });
    expect(pulledOther.manifest.digest).toBe(otherChild.digest);
    expect((await chosen.getImage(remote))!.config.architecture).toBe(other);

    const none = await newStore('multi-none');
    await expect(pullImage(none, remote, { ...FAST, platform: { os: 'linux', architecture: 'mips64le' } })).rejects.toMatchObject({
      code: 'E_REGISTRY_NO_PLATFORM',
      message: expect.stringContaining(`linux/${other}`),
    });
    expect(await none.resolveTag(remote)).toBeUndefined();
  });
});

describe('reference normalisation', () => {
  it('pulls by digest and keeps a tag only for tagged references', async () => {
    const source = await newStore('digest-source');
    await load(source, await busyboxImageLayout());
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, `${registry.host}/bydigest/busybox`, FAST);
    expect(pushed.reference).toBe(`${registry.host}/bydigest/busybox:latest`);
    const target = await newStore('digest-target');
    const pulled = await pullImage(target, `${registry.host}/bydigest/busybox@${pushed.descriptor.digest}`, FAST);
    expect(pulled.manifest.digest).toBe(pushed.descriptor.digest);
    expect(await target.resolveTag(`${registry.host}/bydigest/busybox:latest`)).toBeUndefined();
    expect((await target.getImage(pushed.descriptor.digest))?.manifestDescriptor.digest).toBe(pushed.descriptor.digest);
    await expect(pushImage(source, BUSYBOX_REFERENCE, `${registry.host}/bydigest/busybox@${pushed.descriptor.digest}`, FAST)).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringContaining('a push needs a tag'),
    });
  });
});

describe('Docker v2 schema 2', () => {
  it('pushes a manifest list of Docker media types and pulls it back', async () => {
    const source = await newStore('docker-source');
    await load(source, await busyboxImageLayout());
    const oci = (await source.getImage(BUSYBOX_REFERENCE))!;
    const config = await source.putJson(oci.config, MediaType.dockerConfig);
    const manifest = await source.putJson(
      {
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config,
        layers: oci.manifest.layers.map((l) => ({ ...l, mediaType: MediaType.dockerLayer })),
      } satisfies Manifest,
      MediaType.dockerManifest,
    );
    const list = await source.putJson(
      { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [{ ...manifest, platform: hostPlatform() }] } satisfies Index,
      MediaType.dockerManifestList,
    );
    await source.setTag('local/docker:1', list);
    const remote = `${registry.host}/docker/busybox:1`;
    const pushed = await pushImage(source, 'local/docker:1', remote, FAST);

    const raw = (await skopeoInspect(remote, true)) as unknown as Index;
    expect(raw.mediaType).toBe(MediaType.dockerManifestList);
    const child = (await skopeoInspect(`${registry.host}/docker/busybox@${raw.manifests[0]!.digest}`, true)) as unknown as Manifest;
    expect(child.mediaType).toBe(MediaType.dockerManifest);
    expect(child.config).toEqual(config);
    expect(child.layers.map((l) => l.mediaType)).toEqual([MediaType.dockerLayerGzip]);

    const target = await newStore('docker-target');
    const pulled = await pullImage(target, remote, FAST);
    expect(pulled.index).toEqual({ mediaType: MediaType.dockerManifestList, digest: pushed.descriptor.digest, size: pushed.descriptor.size });
    expect(pulled.manifest.mediaType).toBe(MediaType.dockerManifest);
    const image = (await target.getImage(remote))!;
    expect(image.config.rootfs.diff_ids).toEqual(oci.config.rootfs.diff_ids);
    const snapshot = await target.ensureSnapshot({ descriptor: image.manifest.layers[0]!, diffId: image.config.rootfs.diff_ids[0]! });
    expect((await lstat(join(snapshot, 'bin/busybox'))).isFile()).toBe(true); // the gzip layer unpacks
  });
});
