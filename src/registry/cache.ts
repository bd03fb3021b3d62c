// The remote build cache (`--cache-to` / `--cache-from`), after BuildKit's registry cache:
// one OCI manifest whose config blob lists the cache records (key → layer) and whose layers
// are the records' layer blobs, so a registry keeps them alive together. In a registry the
// manifest is tagged at `ref`; on a shared file system it is an OCI image layout directory
// (index.json naming it `tsbuild-cache`).
//
// Records keep the layer descriptor the exporting store had (uncompressed for layers the
// build made), so an importing store ends up with the same blobs and builds the same image
// digest; where the registry got a compressed copy, the record names it as `wire`, and the
// import decompresses it back, verified against the original digest.
//
// Import is lazy. `importCache` reads only the records; records without a layer go into the
// store's cache index at once, but a record with a layer can only enter the index once its
// blob is in the store (the store refuses dangling records). The engine therefore consults
// the import on a local miss (`get`), treats a hit as a hit, and calls `ensureLayer` only for
// layers it must actually read: a later step that has to run, or the exported image. The
// layers of cached intermediate stages are never downloaded.

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import PQueue from 'p-queue';
import { RegistryError, StoreError, UsageError } from '../errors.js';
import { tempPathBeside, writeFileAtomic } from '../lib/atomic.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { digestHex, isDigest, sha256, type Digest } from '../lib/digest.js';
import { isCode } from '../lib/lock.js';
import { Annotation, MediaType, type Descriptor, type Index, type Manifest } from '../layer/oci.js';
import { formatReference, parseReference } from '../store/reference.js';
import type { CacheRecord, ContentStore, LayerRef } from '../store/types.js';
import { RegistryClient } from './client.js';
import { fetchBlob } from './fetch.js';
import { DEFAULTS, type RegistryOptions } from './options.js';
import { PushSession } from './push.js';
import { settleAll } from './queue.js';

export const CACHE_ARTIFACT_TYPE = 'application/vnd.tsbuild.cache.v1';
const CACHE_CONFIG_TYPE = 'application/vnd.tsbuild.cache.config.v1+json';
const LOCAL_REF_NAME = 'tsbuild-cache';
const CACHE_FORMAT_VERSION = 1;

/** One record the build offers for export. */
export interface CacheExportEntry {
  key: string;
  record: CacheRecord;
  /** The step's result is part of the exported image; `mode: 'min'` exports only these. */
  inOutput?: boolean;
}

export type CacheMode = 'min' | 'max';

export type CacheTarget =
  | { type: 'registry'; ref: string; mode?: CacheMode }
  | { type: 'local'; dest: string; mode?: CacheMode };

export type CacheSource = { type: 'registry'; ref: string } | { type: 'local'; src: string };

/** The config blob of a cache manifest. */
interface CacheConfig {
  version: number;
  records: Array<{ key: string; record: CacheRecord; wire?: Descriptor }>;
}

export interface CacheExportResult {
  records: number;
  layers: number;
  /** The cache manifest's digest. */
  digest: Digest;
}

export async function exportCache(store: ContentStore, entries: CacheExportEntry[], target: CacheTarget, options: RegistryOptions = {}): Promise<CacheExportResult> {
  const mode = target.mode ?? 'min';
  const chosen = await exportable(store, entries.filter((e) => mode === 'max' || e.inOutput));
  return target.type === 'registry' ? exportToRegistry(store, chosen, target.ref, options) : exportToDirectory(store, chosen, target.dest);
}

/** Records whose layer is in the store (an imported record not fetched yet cannot be re-exported). */
async function exportable(store: ContentStore, entries: CacheExportEntry[]): Promise<CacheExportEntry[]> {
  const present = await Promise.all(entries.map((e) => (e.record.layer ? store.hasBlob(e.record.layer.descriptor.digest) : true)));
  const seen = new Set<string>();
  return entries.filter((e, i) => present[i] && !seen.has(e.key) && seen.add(e.key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function cacheManifest(config: Descriptor, layers: Descriptor[]): Manifest {
  const unique = [...new Map(layers.map((l) => [l.digest, { mediaType: l.mediaType, digest: l.digest, size: l.size }])).values()];
  return { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: CACHE_ARTIFACT_TYPE, config, layers: unique };
}

async function exportToRegistry(store: ContentStore, entries: CacheExportEntry[], ref: string, options: RegistryOptions): Promise<CacheExportResult> {
  const remote = parseReference(ref);
  if (remote.digest !== undefined) throw new UsageError(`cannot export a cache to ${ref}: name a tag, not a digest`, { hint: 'e.g. type=registry,ref=registry.example/app:buildcache' });
  const client = await RegistryClient.connect(remote.domain, options);
  try {
    const session = new PushSession(store, client, remote.path, [], options);
    const records = await settleAll(
      entries.map(async ({ key, record }) => {
        if (!record.layer) return { key, record };
        const pushed = await session.pushLayer(record.layer.descriptor);
        return pushed.digest === record.layer.descriptor.digest ? { key, record } : { key, record, wire: pushed };
      }),
    );
    const config = await store.putJson({ version: CACHE_FORMAT_VERSION, records } satisfies CacheConfig, CACHE_CONFIG_TYPE);
    await session.pushBlob(config);
    const layers = records.flatMap((r) => (r.wire ? [r.wire] : r.record.layer ? [r.record.layer.descriptor] : []));
    const manifest = cacheManifest(config, layers);
    const bytes = Buffer.from(canonicalJson(manifest));
    const digest = await client.putManifest(remote.path, remote.tag!, bytes, MediaType.ociManifest);
    return { records: records.length, layers: manifest.layers.length, digest };
  } finally {
    client.close();
  }
}

async function exportToDirectory(store: ContentStore, entries: CacheExportEntry[], dest: string): Promise<CacheExportResult> {
  const blobsDir = join(dest, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const layers = entries.flatMap((e) => (e.record.layer ? [e.record.layer.descriptor] : []));
  const config = await store.putJson({ version: CACHE_FORMAT_VERSION, records: entries.map(({ key, record }) => ({ key, record })) } satisfies CacheConfig, CACHE_CONFIG_TYPE);
  for (const blob of [...layers, config]) await copyBlobInto(store, blob, blobsDir);
  const manifest = cacheManifest(config, layers);
  const bytes = Buffer.from(canonicalJson(manifest));
  const digest = sha256(bytes);
  await writeFileAtomic(join(blobsDir, digestHex(digest)), bytes);
  await writeFileAtomic(join(dest, 'oci-layout'), canonicalJson({ imageLayoutVersion: '1.0.0' }));
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [{ mediaType: MediaType.ociManifest, digest, size: bytes.length, artifactType: CACHE_ARTIFACT_TYPE, annotations: { [Annotation.refName]: LOCAL_REF_NAME } }],
  };
  // index.json last: until it is renamed in, a reader sees the previous export or none.
  await writeFileAtomic(join(dest, 'index.json'), canonicalJson(index));
  return { records: entries.length, layers: manifest.layers.length, digest };
}

async function copyBlobInto(store: ContentStore, blob: Descriptor, blobsDir: string): Promise<void> {
  const target = join(blobsDir, digestHex(blob.digest));
  if ((await stat(target).catch(() => undefined))?.size === blob.size) return;
  const temp = tempPathBeside(target);
  try {
    await pipeline(store.openBlob(blob.digest), createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}

// --- import ------------------------------------------------------------------------------

export interface ImportedCache {
  /** How many records the source holds. */
  readonly size: number;
  /** The imported record for a key; its layer blob may not be in the store yet. */
  get(key: string): CacheRecord | undefined;
  /**
   * Makes the layer's blob present in the store (downloading it once, verified) and records
   * every imported key that names it in the store's cache index. No-op when already there.
   */
  ensureLayer(layer: LayerRef): Promise<void>;
  /** Releases connections; the records stay usable, `ensureLayer` no longer works. */
  close(): void;
}

interface BlobSource {
  /** Puts `blob` into the store, from `wire` (a compressed copy of it) when given. */
  fetch(store: ContentStore, blob: Descriptor, wire: Descriptor | undefined): Promise<void>;
  close(): void;
}

export interface ImportOptions extends RegistryOptions {
  /** Download every layer now instead of on demand. */
  eager?: boolean;
}

export async function importCache(store: ContentStore, source: CacheSource, options: ImportOptions = {}): Promise<ImportedCache> {
  const { config, blobs } = source.type === 'registry' ? await openRegistryCache(source.ref, options) : await openDirectoryCache(source.src);
  const valid = validRecords(config);
  const records = new Map(valid.map((r) => [r.key, r.record]));
  const wires = new Map(valid.flatMap((r) => (r.wire && r.record.layer ? [[r.record.layer.descriptor.digest, r.wire] as const] : [])));
  for (const [key, record] of records) {
    if (!record.layer || (await store.hasBlob(record.layer.descriptor.digest))) await store.putCacheRecord(key, record);
  }
  const pending = new Map<Digest, Promise<void>>();
  // Not a TransferQueue: one failed download must not stop the build's later ones.
  const downloads = new PQueue({ concurrency: options.concurrency ?? DEFAULTS.concurrency });
  const imported: ImportedCache = {
    size: records.size,
    get: (key) => records.get(key),
    ensureLayer(layer) {
      const digest = layer.descriptor.digest;
      let job = pending.get(digest);
      if (!job) {
        job = downloads.add(async () => {
          await blobs.fetch(store, layer.descriptor, wires.get(digest));
          for (const [key, record] of records) {
            if (record.layer?.descriptor.digest === digest) await store.putCacheRecord(key, record);
          }
        });
        job.catch(() => pending.delete(digest)); // a failed fetch may be tried again
        pending.set(digest, job);
      }
      return job;
    },
    close: () => blobs.close(),
  };
  if (options.eager) {
    const layers = [...new Map([...records.values()].flatMap((r) => (r.layer ? [[r.layer.descriptor.digest, r.layer] as const] : []))).values()];
    await settleAll(layers.map((l) => imported.ensureLayer(l)));
  }
  return imported;
}

function validRecords(config: CacheConfig): CacheConfig['records'] {
  if (config.version !== CACHE_FORMAT_VERSION || !Array.isArray(config.records)) {
    throw new RegistryError('E_REGISTRY_CACHE_FORMAT', `the cache has format version ${String(config.version)}; this tsbuild reads version ${CACHE_FORMAT_VERSION}`, {
      hint: 'Export the cache again with this version of tsbuild.',
    });
  }
  const digestsValid = ({ record, wire }: CacheConfig['records'][number]) =>
    !record.layer || (isDigest(record.layer.diffId) && isDigest(record.layer.descriptor.digest) && (!wire || isDigest(wire.digest)));
  return config.records.filter((entry) => typeof entry.key === 'string' && digestsValid(entry));
}

async function openRegistryCache(ref: string, options: RegistryOptions): Promise<{ config: CacheConfig; blobs: BlobSource }> {
  const remote = parseReference(ref);
  const client = await RegistryClient.connect(remote.domain, options);
  try {
    const fetched = await client.getManifest(remote.path, remote.digest ?? remote.tag!);
    const manifest = JSON.parse(fetched.bytes.toString('utf8')) as Manifest;
    checkCacheManifest(manifest, formatReference(remote));
    const body = await client.openBlob(remote.path, manifest.config.digest);
    const config = await readVerifiedJson<CacheConfig>(body, manifest.config);
    return {
      config,
      blobs: { fetch: (store, blob, wire) => fetchBlob(store, client, remote.path, wire ?? blob, options, blob), close: () => client.close() },
    };
  } catch (error) {
    client.close();
    throw error;
  }
}

async function openDirectoryCache(src: string): Promise<{ config: CacheConfig; blobs: BlobSource }> {
  const blobPath = (digest: Digest) => join(src, 'blobs', 'sha256', digestHex(digest));
  let index: Index;
  try {
    index = JSON.parse(await readFile(join(src, 'index.json'), 'utf8')) as Index;
  } catch (error) {
    throw new StoreError(isCode(error, 'ENOENT') ? 'not-found' : 'invalid', `${src} holds no tsbuild cache (index.json ${isCode(error, 'ENOENT') ? 'is missing' : 'is unreadable'})`, {
      hint: 'Export a cache there first with --cache-to type=local,dest=DIR.',
    });
  }
  const entry = index.manifests?.find((m) => m.annotations?.[Annotation.refName] === LOCAL_REF_NAME);
  if (!entry || !isDigest(entry.digest)) throw new StoreError('invalid', `${src}/index.json names no ${LOCAL_REF_NAME} manifest`);
  const manifest = await readVerifiedJson<Manifest>(createReadStream(blobPath(entry.digest)), entry);
  checkCacheManifest(manifest, src);
  const config = await readVerifiedJson<CacheConfig>(createReadStream(blobPath(manifest.config.digest)), manifest.config);
  return {
    config,
    blobs: {
      async fetch(store, blob) {
        if (await store.hasBlob(blob.digest)) return;
        await store.ingest(createReadStream(blobPath(blob.digest)), { digest: blob.digest, size: blob.size });
      },
      close: () => undefined,
    },
  };
}

function checkCacheManifest(manifest: Manifest, where: string): void {
  if (manifest.config?.mediaType !== CACHE_CONFIG_TYPE || !isDigest(manifest.config.digest)) {
    throw new RegistryError('E_REGISTRY_CACHE_FORMAT', `${where} is not a tsbuild cache (its config is ${manifest.config?.mediaType ?? 'missing'})`, {
      hint: 'Point --cache-from at a reference that --cache-to wrote.',
    });
  }
}

async function readVerifiedJson<T>(body: Readable, descriptor: Descriptor): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > 64 << 20) throw new RegistryError('E_REGISTRY_CACHE_FORMAT', `cache metadata ${descriptor.digest} is larger than 64 MiB`);
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (sha256(bytes) !== descriptor.digest) {
    throw new RegistryError('E_REGISTRY_DIGEST_MISMATCH', `cache metadata ${descriptor.digest} hashes to ${sha256(bytes)}`, { hint: 'The cache was altered; export it again.' });
  }
  return JSON.parse(bytes.toString('utf8')) as T;
}
