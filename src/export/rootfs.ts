// `type=local` and `type=tar`: the image's final root filesystem, its layers applied in order
// (whiteouts deleting what they name), as a directory or as one deterministic tarball.

import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import { extractLayer, writeLayer } from '../layer/index.js';
import { tempPathBeside } from '../lib/atomic.js';
import type { ContentStore, StoredImage } from '../store/types.js';

async function applyLayers(store: ContentStore, image: StoredImage, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const layer of image.manifest.layers) {
    await extractLayer(store.openBlob(layer.digest), dir, { mediaType: layer.mediaType, whiteouts: 'apply' });
  }
}

/** The root filesystem as files in `dest` (a new or empty directory), which appears whole or not at all. */
export async function writeRootfsDirectory(store: ContentStore, image: StoredImage, dest: string): Promise<void> {
  const existing = await readdir(dest).catch(() => undefined);
  if (existing && existing.length > 0) {
    throw new UsageError(`--output type=local: ${dest} is not empty`, { hint: 'name a new or empty directory' });
  }
  const temp = tempPathBeside(dest);
  try {
    await applyLayers(store, image, temp);
    if (existing) await rmdir(dest);
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** The root filesystem as one tarball, in the layer writer's deterministic form. */
export async function writeRootfsTar(store: ContentStore, image: StoredImage, out: Writable, sourceDateEpoch: number): Promise<void> {
  const scratch = await store.createTempDir('rootfs-tar');
  try {
    const root = join(scratch.path, 'rootfs');
    await applyLayers(store, image, root);
    await writeLayer(root, out, { kind: 'directory', sourceDateEpoch });
  } finally {
    await scratch.release();
  }
}
