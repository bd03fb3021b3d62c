// Small builders for store tests: tiny layers and images made with the real layer writer.

import { mkdtemp, open, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { MediaType, writeLayer, type Descriptor } from '../../src/layer/index.js';
import type { LayerRef, Store } from '../../src/store/index.js';

export async function readStream(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Flips one bit of the byte at `offset`: the smallest corruption there is. */
export async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0x01;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

export async function tempDir(prefix = 'tsbuild-store-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes `files` into a fresh dir, makes a deterministic layer of it and ingests it. */
export async function layerOf(store: Store, files: Record<string, string>): Promise<LayerRef> {
  const source = await tempDir('tsbuild-layer-src-');
  try {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(dirname(join(source, name)), { recursive: true });
      await writeFile(join(source, name), content);
    }
    return await layerOfDir(store, source);
  } finally {
    await rm(source, { recursive: true, force: true });
  }
}

/** Makes a deterministic layer of the files in `dir` and ingests it. */
export async function layerOfDir(store: Store, dir: string): Promise<LayerRef> {
  const out = new PassThrough();
  const ingesting = store.ingest(out);
  const written = await writeLayer(dir, out, { sourceDateEpoch: 0, kind: 'directory' });
  const blob = await ingesting;
  return { descriptor: { mediaType: MediaType.ociLayer, digest: blob.digest, size: blob.size }, diffId: written.diffId };
}

export interface TinyImage {
  manifest: Descriptor;
  config: Descriptor;
  layer: LayerRef;
  layers: LayerRef[];
  content: string;
}

/** An image of one layer holding hello.txt = `content` (plus `extra` layers below it). */
export async function putTinyImage(store: Store, content: string, extra: LayerRef[] = []): Promise<TinyImage> {
  const layer = await layerOf(store, { 'hello.txt': content });
  const layers = [...extra, layer];
  const config = await store.putJson(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } },
    MediaType.ociConfig,
  );
  const manifest = await store.putJson(
    { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: layers.map((l) => l.descriptor) },
    MediaType.ociManifest,
  );
  return { manifest, config, layer, layers, content };
}
