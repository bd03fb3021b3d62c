// A small real image in a real store, for exporter tests: one layer made from a directory.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { writeLayer } from '../../src/layer/write.js';
import { MediaType, type ImageConfig, type Manifest } from '../../src/layer/oci.js';
import { Store } from '../../src/store/store.js';
import type { StoredImage } from '../../src/store/types.js';

export async function makeImage(work: string): Promise<{ store: Store; image: StoredImage }> {
  const store = await Store.open(join(work, 'store'));
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc/greeting'), 'hello\n');
  const pass = new PassThrough();
  const [layer, blob] = await Promise.all([
    writeLayer(tree, pass, { sourceDateEpoch: 0, kind: 'directory' }),
    store.ingest(pass),
  ]);
  const config: ImageConfig = {
    created: '1970-01-01T00:00:00Z', architecture: 'amd64', os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'test layer' }],
  };
  const configDescriptor = await store.putJson(config, MediaType.ociConfig);
  const manifest: Manifest = {
    schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor,
    layers: [{ mediaType: MediaType.ociLayer, digest: blob.digest, size: blob.size }],
  };
  const manifestDescriptor = await store.putJson(manifest, MediaType.ociManifest);
  return { store, image: { manifestDescriptor, manifest, config } };
}
