// The compressed form of a layer the store keeps uncompressed (DESIGN: compression only where
// bytes travel): made once per compressor and level, kept as a blob, and remembered in the
// cache index under the layer digest and the settings, so the next push or compressed export
// of the same layer costs a lookup. Prune evicts these like any cache record.

import type { Readable, Transform } from 'node:stream';
import { compressLayer, DEFAULT_GZIP_LEVEL, type Compression } from '../layer/compress.js';
import { MediaType, type Descriptor } from '../layer/oci.js';
import { localRecordKey } from './cache.js';
import type { ContentStore } from './types.js';

const COMPRESSED_TYPES: Record<string, Partial<Record<Compression, string>>> = {
  [MediaType.ociLayer]: { gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd },
  [MediaType.dockerLayer]: { gzip: MediaType.dockerLayerGzip },
};

/** Annotation recording how a layer was compressed, e.g. `gzip-6`. */
export const COMPRESSION_ANNOTATION = 'dev.tsbuild.compression';

export interface CompressOptions {
  compression: Exclude<Compression, 'none'>;
  level?: number;
  /** A pass-through that watches the bytes read (progress), if any. */
  observe?: (layer: Descriptor) => Transform;
}

/** The layer's compressed descriptor, or the layer itself when it is already compressed. */
export async function compressedLayer(store: ContentStore, layer: Descriptor, options: CompressOptions): Promise<Descriptor> {
  const mediaType = COMPRESSED_TYPES[layer.mediaType]?.[options.compression];
  if (!mediaType) return layer;
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  const settings = `${options.compression}-${level}`;
  const key = localRecordKey('registry.compressed', `${settings}:${layer.digest}`);
  const known = (await store.getCacheRecord(key))?.layer?.descriptor;
  if (known) return known;
  let read: Readable = store.openBlob(layer.digest);
  if (options.observe) {
    // pipe() does not pass errors on: a corrupt blob must fail the observer, not crash the process.
    const blob = read;
    const observer = options.observe(layer);
    blob.on('error', (error) => observer.destroy(error));
    read = blob.pipe(observer);
  }
  const { digest, size } = await store.ingest(compressLayer(read, options.compression, level));
  const compressed: Descriptor = { ...layer, mediaType, digest, size, annotations: { ...layer.annotations, [COMPRESSION_ANNOTATION]: settings } };
  await store.putCacheRecord(key, { layer: { descriptor: compressed, diffId: layer.digest }, createdAt: new Date().toISOString() });
  return compressed;
}
