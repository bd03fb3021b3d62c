// The build archive (`--archive FILE`, `--output type=archive`): one OCI image layout tarball
// holding the final image, one image per step (the environment after it, with the config the
// step saw), and a build artifact whose blobs are the recipe, the context and the named
// contexts, build.json, every step's whole log, the provenance, and optionally the cache
// mounts. Any OCI tool reads it; every blob is stored once, so steps share their layers with
// the final image.

import { createReadStream } from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';
import { canonicalJson } from '../lib/canonical-json.js';
import { digestHex } from '../lib/digest.js';
import { Annotation, MediaType, type Descriptor, type Index, type Manifest } from '../layer/oci.js';
import { writeLayer } from '../layer/index.js';
import type { ContentStore } from '../store/types.js';
import { BUILD_RECORD_VERSION, type ArchivedBuildInfo, type ArchivedNamedContext, type BuildRecord } from './build-record.js';
import { writeArchive, type ArchiveEntry } from './image-archive.js';
import { provenanceStatement } from './provenance.js';

export const ArchiveMediaType = {
  build: 'application/vnd.tsbuild.build.v1+json',
  recipe: 'application/vnd.tsbuild.recipe.v1',
  context: 'application/vnd.tsbuild.context.v1.tar',
  /** A `--build-context NAME=DIR` as the main context is kept; build.json names it by digest. */
  namedContext: 'application/vnd.tsbuild.named-context.v1.tar',
  log: 'application/vnd.tsbuild.log.v1',
  cacheMount: 'application/vnd.tsbuild.cache-mount.v1.tar',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Annotation values of the index entries, so replay and humans can tell them apart. */
export const ArchiveRole = { key: 'dev.tsbuild.role', image: 'image', step: 'step', base: 'base', build: 'build' } as const;

const TITLE = 'org.opencontainers.image.title';

export async function writeBuildArchive(store: ContentStore, record: BuildRecord, out: Writable): Promise<void> {
  const recipe = await putText(store, record.recipe.content, ArchiveMediaType.recipe, record.recipe.name);
  const ignore = record.ignoreFile && (await putText(store, record.ignoreFile.content, ArchiveMediaType.recipe, record.ignoreFile.name));
  const context = await contextBlob(record.contextDir, record.contextFiles, record.sourceDateEpoch, ArchiveMediaType.context, 'context.tar');
  const namedDirs = await namedContextBlobs(record);
  const logs = new Map<number, Descriptor>();
  for (const step of record.steps) {
    if (step.logFile) logs.set(step.id, await putFile(store, step.logFile, ArchiveMediaType.log, `logs/step-${step.id}.log`));
  }
  const caches = [];
  for (const mount of record.cacheMounts ?? []) caches.push(await putTree(store, mount.dir, ArchiveMediaType.cacheMount, `cache/${mount.id}`, record.sourceDateEpoch));
  const info = buildInfo(record, logs, namedDirs);
  const infoBlob = await store.putJson(info, ArchiveMediaType.build);
  const provenance = await store.putJson(provenanceStatement(info, recipe.digest, context.descriptor.digest), MediaType.inTotoStatement);
  const emptyConfig = await store.putJson({}, ArchiveMediaType.empty);
  const artifact: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: ArchiveMediaType.build,
    config: emptyConfig,
    layers: [
      { ...infoBlob, annotations: { [TITLE]: 'build.json' } },
      { ...provenance, annotations: { [TITLE]: 'provenance.intoto.json' } },
      recipe, ...(ignore ? [ignore] : []), context.descriptor, ...[...namedDirs.values()].map((blob) => blob.descriptor),
      ...logs.values(), ...caches,
    ],
  };
  const artifactDescriptor = await store.putJson(artifact, MediaType.ociManifest);
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { ...record.final.manifestDescriptor, annotations: { [Annotation.refName]: 'image', [ArchiveRole.key]: ArchiveRole.image } },
      ...record.steps.map((step) => ({
        ...step.image.manifestDescriptor,
        annotations: {
          [Annotation.refName]: `step-${step.id}`,
          [ArchiveRole.key]: ArchiveRole.step,
          [Annotation.stage]: step.stage,
          [Annotation.stepIndex]: String(step.id),
          ...(step.location ? { [Annotation.recipeLine]: String(step.location.line) } : {}),
          'dev.tsbuild.instruction': step.instruction,
        },
      })),
      ...record.baseImages.map((base, i) => ({
        ...base.image.manifestDescriptor,
        annotations: { [Annotation.refName]: `base-${i + 1}`, [ArchiveRole.key]: ArchiveRole.base, 'dev.tsbuild.base.ref': base.ref },
      })),
      { ...artifactDescriptor, artifactType: ArchiveMediaType.build, annotations: { [Annotation.refName]: 'build', [ArchiveRole.key]: ArchiveRole.build } },
    ],
  };
  const images = [record.final, ...record.steps.map((s) => s.image), ...record.baseImages.map((b) => b.image)];
  const blobs: Descriptor[] = [
    ...images.flatMap((image) => [image.manifestDescriptor, image.manifest.config, ...image.manifest.layers]),
    artifactDescriptor, ...artifact.layers, emptyConfig,
  ];
  const streamed = new Map([context, ...namedDirs.values()].map((blob) => [blob.descriptor.digest, blob]));
  const seen = new Set<string>();
  const entries: ArchiveEntry[] = [
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: canonicalJson(index) },
    { name: 'blobs/', data: '' },
    { name: 'blobs/sha256/', data: '' },
    ...blobs
      .filter((blob) => !seen.has(blob.digest) && seen.add(blob.digest))
      .map((blob): ArchiveEntry => {
        const name = `blobs/sha256/${digestHex(blob.digest)}`;
        const produce = streamed.get(blob.digest)?.produce;
        return produce ? { name, size: blob.size, produce } : { name, blob };
      }),
  ];
  await writeArchive(store, entries, out);
}

function buildInfo(record: BuildRecord, logs: Map<number, Descriptor>, namedDirs: Map<string, StreamedBlob>): ArchivedBuildInfo {
  return {
    version: BUILD_RECORD_VERSION,
    recipe: record.recipe.name,
    ...(record.ignoreFile ? { ignoreFile: record.ignoreFile.name } : {}),
    ...(record.target !== undefined ? { target: record.target } : {}),
    buildArgs: record.buildArgs,
    ...(Object.keys(record.labels).length > 0 ? { labels: record.labels } : {}),
    ...(Object.keys(record.manifestAnnotations).length > 0 ? { manifestAnnotations: record.manifestAnnotations } : {}),
    platform: record.platform,
    network: record.network,
    ...(Object.keys(record.sandbox).length > 0 ? { sandbox: record.sandbox } : {}),
    sourceDateEpoch: record.sourceDateEpoch,
    baseImages: record.baseImages.map((base) => ({ ref: base.ref, digest: base.image.manifestDescriptor.digest })),
    versions: record.versions,
    startedOn: record.startedOn,
    finishedOn: record.finishedOn,
    names: record.names,
    ...(record.contextGit ? { contextGit: record.contextGit } : {}),
    final: record.final.manifestDescriptor.digest,
    steps: record.steps.map(({ image, logFile: _log, ...step }) => ({
      ...step,
      manifest: image.manifestDescriptor.digest,
      diffIds: image.config.rootfs.diff_ids,
      ...(logs.has(step.id) ? { log: logs.get(step.id)!.digest } : {}),
    })),
    cacheMounts: (record.cacheMounts ?? []).map((m) => m.id),
    namedContexts: record.namedContexts.map((named): ArchivedNamedContext => named.kind === 'dir'
      ? { kind: 'dir', name: named.name, context: namedDirs.get(named.name)!.descriptor.digest, ...(named.git ? { git: named.git } : {}) }
      : named),
  };
}

async function putText(store: ContentStore, text: string, mediaType: string, title: string): Promise<Descriptor> {
  const { digest, size } = await store.ingest(Readable.from([Buffer.from(text)]));
  return { mediaType, digest, size, annotations: { [TITLE]: title } };
}

async function putFile(store: ContentStore, path: string, mediaType: string, title: string): Promise<Descriptor> {
  const { digest, size } = await store.ingest(createReadStream(path));
  return { mediaType, digest, size, annotations: { [TITLE]: title } };
}

/** A directory as a deterministic tar blob (the layer writer's format). */
async function putTree(store: ContentStore, dir: string, mediaType: string, title: string, sourceDateEpoch: number): Promise<Descriptor> {
  const tar = new PassThrough();
  const [, stored] = await Promise.all([
    writeLayer(dir, tar, { kind: 'directory', sourceDateEpoch }),
    store.ingest(tar),
  ]);
  return { mediaType, digest: stored.digest, size: stored.size, annotations: { [TITLE]: title } };
}

/** A blob produced while the archive is written, never stored anywhere else. */
interface StreamedBlob {
  descriptor: Descriptor;
  produce: (out: Writable) => Promise<unknown>;
}

/**
 * Context files after .dockerignore as one deterministic tar, written straight into the
 * archive: a first pass only hashes it (for its descriptor), the second streams it, so the
 * context is read twice but never written anywhere but the archive.
 */
async function contextBlob(dir: string, files: string[], sourceDateEpoch: number, mediaType: string, title: string): Promise<StreamedBlob> {
  const options = { kind: 'directory' as const, sourceDateEpoch, only: new Set(files) };
  const produce = (out: Writable) => writeLayer(dir, out, options);
  const { diffId, size } = await produce(new Writable({ write: (_chunk, _encoding, done) => done() }));
  return { descriptor: { mediaType, digest: diffId, size, annotations: { [TITLE]: title } }, produce };
}

/** Each `--build-context NAME=DIR` as the main context is kept, by name. */
async function namedContextBlobs(record: BuildRecord): Promise<Map<string, StreamedBlob>> {
  const blobs = new Map<string, StreamedBlob>();
  for (const named of record.namedContexts) {
    if (named.kind !== 'dir') continue;
    const title = `contexts/${named.name}.tar`;
    blobs.set(named.name, await contextBlob(named.dir, named.files, record.sourceDateEpoch, ArchiveMediaType.namedContext, title));
  }
  return blobs;
}

