// The base image of the engine and e2e tests: busybox as an OCI image layout, built once from
// busyboxRootfs() with the deterministic layer writer, cached under .cache/fixtures/ as a
// directory and as a tar of it. Load it with `load(store, await busyboxImageLayout())`; it is
// named docker.io/library/busybox:latest.

import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { canonicalJson } from '../../src/lib/canonical-json.js';
import { digestHex, sha256, type Digest } from '../../src/lib/digest.js';
import { writeLayer, MediaType, type ImageConfig, type Index, type Manifest } from '../../src/layer/index.js';
import { hostPlatform } from '../../src/store/index.js';
import { FIXTURE_CACHE, busyboxRootfs } from './fixtures.js';

export const BUSYBOX_REFERENCE = 'docker.io/library/busybox:latest';
const LAYOUT_DIR = join(FIXTURE_CACHE, 'busybox-oci');
const LAYOUT_TAR = join(FIXTURE_CACHE, 'busybox-oci.tar');

/** The OCI image layout directory (index.json, oci-layout, blobs/sha256/…). */
export async function busyboxImageLayout(): Promise<string> {
  if (!existsSync(join(LAYOUT_DIR, 'index.json'))) await writeBusyboxLayout(LAYOUT_DIR);
  return LAYOUT_DIR;
}

/** The same layout as one tar file, as `skopeo copy … oci-archive:` would write it. */
export async function busyboxImageTar(): Promise<string> {
  if (existsSync(LAYOUT_TAR)) return LAYOUT_TAR;
  const dir = await busyboxImageLayout();
  const staged = `${LAYOUT_TAR}.${process.pid}.tmp`;
  await writeLayoutTar(dir, staged);
  await rename(staged, LAYOUT_TAR);
  return LAYOUT_TAR;
}

/** Writes an OCI layout directory as a tar: oci-layout, index.json, then the blobs. */
export async function writeLayoutTar(dir: string, target: string): Promise<void> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Index;
  const digests = new Set<Digest>();
  for (const entry of index.manifests) {
    digests.add(entry.digest);
    const manifest = JSON.parse(await readFile(join(dir, 'blobs/sha256', digestHex(entry.digest)), 'utf8')) as Manifest;
    digests.add(manifest.config.digest);
    for (const layer of manifest.layers) digests.add(layer.digest);
  }
  const tar = pack();
  const done = pipeline(tar, createWriteStream(target));
  const add = async (name: string, path: string) => {
    const data = await readFile(path);
    await new Promise<void>((resolve, reject) => tar.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? reject(e) : resolve())));
  };
  await add('oci-layout', join(dir, 'oci-layout'));
  await add('index.json', join(dir, 'index.json'));
  for (const digest of [...digests].sort()) await add(`blobs/sha256/${digestHex(digest)}`, join(dir, 'blobs/sha256', digestHex(digest)));
  tar.finalize();
  await done;
}

/** Builds the layout into `dest` (absent, or left alone if another process got there first). */
export async function writeBusyboxLayout(dest: string): Promise<void> {
  const rootfs = busyboxRootfs();
  await mkdir(dirname(dest), { recursive: true });
  const staging = await mkdtemp(join(dirname(dest), '.busybox-oci-'));
  try {
    const blobs = join(staging, 'blobs/sha256');
    await mkdir(blobs, { recursive: true });
    const layerTemp = join(staging, 'layer.tar');
    const layer = await writeLayer(rootfs, createWriteStream(layerTemp), { sourceDateEpoch: 0, kind: 'directory' });
    await rename(layerTemp, join(blobs, digestHex(layer.diffId)));
    const putJson = async (value: unknown, mediaType: string) => {
      const bytes = Buffer.from(canonicalJson(value));
      const digest = sha256(bytes);
      await writeFile(join(blobs, digestHex(digest)), bytes);
      return { mediaType, digest, size: bytes.length };
    };
    const platform = hostPlatform();
    const config: ImageConfig = {
      created: '1970-01-01T00:00:00Z',
      architecture: platform.architecture,
      os: platform.os,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'busybox-static root filesystem (tsbuild test fixture)' }],
    };
    const configDescriptor = await putJson(config, MediaType.ociConfig);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: [{ mediaType: MediaType.ociLayer, digest: layer.diffId, size: layer.size }],
    };
    const manifestDescriptor = await putJson(manifest, MediaType.ociManifest);
    const index: Index = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          ...manifestDescriptor,
          platform,
          annotations: { 'org.opencontainers.image.ref.name': 'latest', 'io.containerd.image.name': BUSYBOX_REFERENCE },
        },
      ],
    };
    await writeFile(join(staging, 'index.json'), canonicalJson(index));
    await writeFile(join(staging, 'oci-layout'), canonicalJson({ imageLayoutVersion: '1.0.0' }));
    // Another worker may have built it meanwhile: the first rename wins, both are identical.
    await rename(staging, dest).catch(() => undefined);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
