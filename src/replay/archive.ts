// Opening a build archive: its blobs go into a store (every layer once), and build.json tells
// which manifest is which step, which blobs hold the recipe, the context and the logs.

import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { Digest } from '../lib/digest.js';
import { extractLayer, type Descriptor, type Manifest } from '../layer/index.js';
import { ArchiveMediaType } from '../export/build-archive.js';
import type { ArchivedBuildInfo } from '../export/build-record.js';
import { load, type Store } from '../store/index.js';
import type { StoredImage } from '../store/types.js';

const TITLE = 'org.opencontainers.image.title';

export interface OpenedArchive {
  path: string;
  info: ArchivedBuildInfo;
  artifact: Manifest;
}

export async function openArchive(store: Store, path: string): Promise<OpenedArchive> {
  const loaded = await load(store, path);
  for (const { descriptor } of loaded) {
    const manifest = await store.readJson<Manifest>(descriptor.digest);
    if (manifest.artifactType !== ArchiveMediaType.build) continue;
    const infoBlob = manifest.layers.find((layer) => layer.mediaType === ArchiveMediaType.build);
    if (!infoBlob) break;
    return { path, info: await store.readJson<ArchivedBuildInfo>(infoBlob.digest), artifact: manifest };
  }
  throw new BuildError('E_NOT_A_BUILD_ARCHIVE', `${path} is an OCI image archive but not a tsbuild build archive (no build record in it)`, {
    hint: 'make one with tsbuild build --archive FILE …',
  });
}

export async function archivedImage(store: Store, digest: Digest): Promise<StoredImage> {
  const image = await store.getImage(digest);
  if (!image) throw new BuildError('E_ARCHIVE_INCOMPLETE', `the archive lacks image ${digest}`);
  return image;
}

/** A step of the archive by number, or the last step of a stage by name. */
export function findArchivedStep(info: ArchivedBuildInfo, selector: { step?: number; stage?: string }) {
  if (selector.step !== undefined) {
    const step = info.steps.find((s) => s.id === selector.step);
    if (!step) throw new BuildError('E_NO_SUCH_STEP', `the archive has no step ${selector.step} (it has steps 1–${info.steps.length})`);
    return step;
  }
  const inStage = info.steps.filter((s) => s.stage === selector.stage);
  if (inStage.length === 0) {
    const stages = [...new Set(info.steps.map((s) => s.stage))].join(', ');
    throw new BuildError('E_NO_SUCH_STAGE', `the archive has no stage "${selector.stage}" (stages: ${stages})`);
  }
  return inStage.at(-1)!;
}

function blobTitled(archive: OpenedArchive, title: string): Descriptor | undefined {
  return archive.artifact.layers.find((layer) => layer.annotations?.[TITLE] === title);
}

/** Writes the archived recipe and context into `dir`; returns the recipe's path and the context dir. */
export async function restoreSources(store: Store, archive: OpenedArchive, dir: string): Promise<{ recipe: string; context: string }> {
  const context = join(dir, 'context');
  await mkdir(context, { recursive: true });
  const contextBlob = archive.artifact.layers.find((layer) => layer.mediaType === ArchiveMediaType.context);
  if (contextBlob) await extractLayer(store.openBlob(contextBlob.digest), context, { whiteouts: 'none' });
  await restoreCacheMounts(store, archive);
  const recipePath = join(dir, 'recipe', 'Dockerfile');
  await mkdir(join(dir, 'recipe'), { recursive: true });
  await writeFile(recipePath, await readText(store, blobTitled(archive, archive.info.recipe)));
  if (archive.info.ignoreFile) {
    await writeFile(`${recipePath}.dockerignore`, await readText(store, blobTitled(archive, archive.info.ignoreFile)));
  }
  return { recipe: recipePath, context };
}

async function readText(store: Store, blob: Descriptor | undefined): Promise<string> {
  if (!blob) throw new BuildError('E_ARCHIVE_INCOMPLETE', 'the archive lacks its recipe');
  const chunks: Buffer[] = [];
  for await (const chunk of store.openBlob(blob.digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Archived cache mounts seed the store's cache dirs, so a replay starts from the same caches. */
async function restoreCacheMounts(store: Store, archive: OpenedArchive): Promise<void> {
  for (const blob of archive.artifact.layers) {
    const id = blob.mediaType === ArchiveMediaType.cacheMount ? blob.annotations?.[TITLE]?.replace(/^cache\//, '') : undefined;
    if (id === undefined || existsSync(store.layout.cacheMount(id))) continue;
    const scratch = await store.createTempDir('cache-mount');
    try {
      await extractLayer(store.openBlob(blob.digest), scratch.path, { whiteouts: 'none' });
      await mkdir(store.layout.cacheMountsDir, { recursive: true, mode: 0o700 });
      await rename(scratch.path, store.layout.cacheMount(id));
    } finally {
      await scratch.release();
    }
  }
}
