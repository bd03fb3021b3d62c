// A finished upper dir becomes a layer: a deterministic tar streamed straight into the store
// (no temp file), then the dir itself is adopted as the layer's snapshot, so the next step
// mounts it without unpacking anything. An empty upper dir makes no layer.

import { readdir } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { writeLayer } from '../layer/write.js';
import { MediaType } from '../layer/oci.js';
import type { ContentStore, LayerRef } from '../store/types.js';

export async function commitUpperDir(
  store: ContentStore,
  upperDir: string,
  options: { sourceDateEpoch: number; kind: 'directory' | 'overlay-upper' },
): Promise<LayerRef | null> {
  if ((await readdir(upperDir)).length === 0) return null;
  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  const [layer, blob] = await Promise.all([
    writeLayer(upperDir, tar, options).catch((error: unknown) => {
      tar.destroy(error as Error);
      throw error;
    }),
    store.ingest(tar).catch((error: unknown) => {
      tar.destroy(error as Error);
      throw error;
    }),
  ]);
  await store.commitSnapshot(layer.diffId, upperDir, layer.opaqueDirs);
  return { diffId: layer.diffId, descriptor: { mediaType: MediaType.ociLayer, digest: blob.digest, size: blob.size } };
}
