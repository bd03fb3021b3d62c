// Push and pull against a real docker-registry on loopback: digests survive the round trip,
// skopeo reads what we push, layers are compressed on the way out and the config is not.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, type Manifest } from '../../src/layer/oci.js';
import { pullImage, pushImage } from '../../src/registry/index.js';
import { Store, load } from '../../src/store/index.js';
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

    const pushed = await pushImage(source, BUSYBOX_REFERENCE, remote, FAST);
    expect(pushed.reference).toBe(remote);

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
    const again = await pushImage(target, remote, `${registry.host}/other/busybox:copy`, FAST);
    expect(again.descriptor.digest).toBe(pushed.descriptor.digest);
    const repeat = await pushImage(source, BUSYBOX_REFERENCE, `${registry.host}/team/busybox:2`, FAST);
    expect(repeat.descriptor.digest).toBe(pushed.descriptor.digest);
  });
});
