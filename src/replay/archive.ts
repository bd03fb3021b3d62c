// Opening a build archive: its blobs go into a store (every layer once), and build.json tells
// which manifest is which step, which blobs hold the recipe, the contexts and the logs.

import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { Digest } from '../lib/digest.js';
import { extractLayer, type Descriptor, type Manifest } from '../layer/index.js';
import { ArchiveMediaType } from '../export/build-archive.js';
import { BUILD_RECORD_VERSION, type ArchivedBuildInfo } from '../export/build-record.js';
import { load, type Store } from '../store/index.js';
import { IMAGE_SCHEME } from '../solve/prepare.js';
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

export interface RestoredSources {
  /** The recipe's path. */
  recipe: string;
  /** The main context dir. */
  context: string;
  /** The `--build-context` values the build had: dirs restored beside the context, `docker-image://` refs. */
  buildContexts: Record<string, string>;
}

/** Writes the archived recipe and contexts into `dir`. */
export async function restoreSources(store: Store, archive: OpenedArchive, dir: string): Promise<RestoredSources> {
  const context = join(dir, 'context');
  const contextBlob = archive.artifact.layers.find((layer) => layer.mediaType === ArchiveMediaType.context);
  await extractContext(store, contextBlob?.digest, context);
  const buildContexts = await restoreNamedContexts(store, archive, join(dir, 'named-contexts'));
  await restoreCacheMounts(store, archive);
  const recipePath = join(dir, 'recipe', 'Dockerfile');
  await mkdir(join(dir, 'recipe'), { recursive: true });
  await writeFile(recipePath, await readText(store, blobTitled(archive, archive.info.recipe)));
  if (archive.info.ignoreFile) {
    await writeFile(`${recipePath}.dockerignore`, await readText(store, blobTitled(archive, archive.info.ignoreFile)));
  }
  return { recipe: recipePath, context, buildContexts };
}

/**
 * Versions only add fields, so every version up to ours replays; a later one may hold an input
 * this tsbuild would silently leave out (as a version 1 reader would the named contexts).
 * Shell, diff and logs read only the steps and images, which every version has.
 */
export function requireReplayableVersion({ path, info }: OpenedArchive): void {
  if (Number.isInteger(info.version) && info.version >= 1 && info.version <= BUILD_RECORD_VERSION) return;
  const writer = info.versions?.tsbuild ? ` (written by tsbuild ${info.versions.tsbuild})` : '';
  const message = `${path} is a build archive of version ${String(info.version)}${writer}; this tsbuild replays versions 1–${BUILD_RECORD_VERSION}`;
  throw new BuildError('E_ARCHIVE_VERSION', message, {
    hint: 'replay it with a tsbuild at least as new as the one that wrote it',
  });
}

/** A context blob's files into a new dir `target`, which stays empty without a blob. */
async function extractContext(store: Store, blob: Digest | undefined, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  if (blob) await extractLayer(store.openBlob(blob), target, { whiteouts: 'none' });
}

/**
 * The named contexts as `--build-context` values for the replay: a dir's files extracted
 * below `dir`, an image as its `docker-image://` ref (the base images are in the archive).
 * Archives before version 2 have none: they could not be built with a named context.
 */
async function restoreNamedContexts(store: Store, archive: OpenedArchive, dir: string): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [i, named] of (archive.info.namedContexts ?? []).entries()) {
    if (named.kind === 'image') {
      values[named.name] = `${IMAGE_SCHEME}${named.ref}`;
      continue;
    }
    if (!archive.artifact.layers.some((layer) => layer.digest === named.context)) {
      throw new BuildError('E_ARCHIVE_INCOMPLETE', `the archive lacks the files of the named context ${named.name} (${named.context})`);
    }
    // Numbered, not named: a context's name may hold `/` or `:`.
    const target = join(dir, String(i + 1));
    await extractContext(store, named.context, target);
    values[named.name] = target;
  }
  return values;
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
