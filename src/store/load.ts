// `tsbuild load`: imports an OCI image layout (tar, optionally gzipped, or directory) or a
// `docker save` archive. The archive is read once, as a stream: blobs go straight into
// ingest (verified against their names when the name is a digest), small metadata files are
// kept in memory. Tags are set only after every image is complete in the store, so a failed
// load leaves no tag behind, only unreferenced blobs for prune.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { StoreError, UsageError, isTsbuildError } from '../errors.js';
import { isDigest, type Digest } from '../lib/digest.js';
import { isCode } from '../lib/lock.js';
import { decompressedStream, detectCompression } from '../layer/compress.js';
import { Annotation, MediaType, type Descriptor, type ImageConfig, type Index, type Manifest } from '../layer/oci.js';
import { imageLayers, isArtifactManifest, isIndexType, resolveImage } from './images.js';
import { familiarReference, parseReference, formatReference } from './reference.js';
import { storeFsError } from './fs-errors.js';
import type { Store } from './store.js';
import { tagKey } from './tags.js';

export interface LoadOptions {
  /** Tag the loaded image with this name instead of the names the archive gives. */
  tag?: string;
}

export interface LoadedImage {
  descriptor: Descriptor;
  /** Normalised references tagged; empty when the archive named none. */
  references: string[];
}

/** Metadata files larger than this are not metadata: they are streamed into the store. */
const SMALL_FILE = 4 << 20;
const CONTAINERD_NAME = 'io.containerd.image.name';

interface ArchiveEntry {
  name: string;
  type: 'file' | 'symlink' | 'other';
  size: number;
  linkname?: string;
  body: Readable;
}

interface Collected {
  small: Map<string, Buffer>;
  /** Path in the archive → the blob it was ingested as. */
  ingested: Map<string, { digest: Digest; size: number }>;
  symlinks: Map<string, string>;
}

export async function load(store: Store, path: string, options: LoadOptions = {}): Promise<LoadedImage[]> {
  if (options.tag !== undefined) tagKey(options.tag); // a bad -t fails before any work
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if (isCode(error, 'ENOENT')) throw new UsageError(`${path} does not exist`, { hint: 'Name an OCI layout tar or directory, or a docker save archive.' });
    throw error;
  }
  const entries = info.isDirectory() ? directoryEntries(path) : tarEntries(path);
  const collected = await collect(store, entries).catch((error: unknown) => {
    throw archiveError(error, path);
  });
  const images = collected.small.has('index.json') ? ociImages(collected, path) : await dockerImages(store, collected, path);
  if (images.length === 0) throw new StoreError('invalid', `${path} holds no image`);
  for (const image of images) await checkComplete(store, image.descriptor, path);
  if (options.tag !== undefined) {
    if (images.length !== 1) {
      throw new UsageError(`${path} holds ${images.length} images; -t names exactly one`, { hint: 'Load without -t to keep the names the archive gives.' });
    }
    images[0]!.references = [formatReference(parseReference(options.tag))];
  }
  for (const image of images) {
    for (const reference of image.references) await store.setTag(reference, image.descriptor);
  }
  return images;
}

async function collect(store: Store, entries: AsyncIterable<ArchiveEntry>): Promise<Collected> {
  const collected: Collected = { small: new Map(), ingested: new Map(), symlinks: new Map() };
  for await (const entry of entries) {
    const name = posix.normalize(entry.name).replace(/^(\.\/)+/, '').replace(/\/$/, '');
    if (entry.type === 'symlink' && entry.linkname !== undefined) {
      collected.symlinks.set(name, posix.normalize(posix.join(posix.dirname(name), entry.linkname)));
    } else if (entry.type === 'file' && blobNameDigest(name)) {
      const digest = blobNameDigest(name)!;
      collected.ingested.set(name, await store.ingest(entry.body, { digest, size: entry.size }));
      continue;
    } else if (entry.type === 'file' && entry.size <= SMALL_FILE) {
      collected.small.set(name, await readAll(entry.body));
      continue;
    } else if (entry.type === 'file') {
      collected.ingested.set(name, await store.ingest(entry.body, { size: entry.size }));
      continue;
    }
    entry.body.resume();
  }
  return collected;
}

/** A failure to read the archive itself (truncated, not a tar, bad gzip) is the archive's fault. */
function archiveError(error: unknown, path: string): unknown {
  const mapped = storeFsError(error, `loading ${path}`);
  if (isTsbuildError(mapped)) return mapped;
  return new StoreError('invalid', `cannot read ${path}: ${(error as Error).message}`, {
    cause: error,
    hint: 'Is it complete? tsbuild load takes an OCI image layout (tar, gzipped tar or directory) or a docker save tar.',
  });
}

function blobNameDigest(name: string): Digest | undefined {
  const match = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
  return match ? (`sha256:${match[1]}` as Digest) : undefined;
}

function ociImages(collected: Collected, source: string): LoadedImage[] {
  const index = parseJson<Index>(collected.small.get('index.json')!, 'index.json', source);
  if (!Array.isArray(index.manifests)) throw new StoreError('invalid', `${source}: index.json has no manifests list`);
  return index.manifests.map((entry) => {
    const { annotations, ...descriptor } = entry;
    if (!isDigest(descriptor.digest)) throw new StoreError('invalid', `${source}: index.json names a malformed digest ${descriptor.digest}`);
    return { descriptor, references: archiveNames(annotations) };
  });
}

/** The names an OCI layout gives an image; a bare ref.name like `latest` names no repository. */
function archiveNames(annotations: Record<string, string> | undefined): string[] {
  const full = annotations?.[CONTAINERD_NAME] ?? annotations?.[Annotation.refName];
  if (full === undefined || !/[/:]/.test(full)) return [];
  try {
    return [formatReference(parseReference(full))];
  } catch {
    return [];
  }
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function dockerImages(store: Store, collected: Collected, source: string): Promise<LoadedImage[]> {
  const manifestJson = collected.small.get('manifest.json');
  if (!manifestJson) {
    throw new StoreError('invalid', `${source} is neither an OCI image layout (no index.json) nor a docker save archive (no manifest.json)`);
  }
  const entries = parseJson<DockerManifestEntry[]>(manifestJson, 'manifest.json', source);
  const images: LoadedImage[] = [];
  for (const entry of entries) {
    const configBytes = await archiveFileBytes(store, collected, entry.Config, source);
    const config = parseJson<ImageConfig>(configBytes, entry.Config, source);
    const configDescriptor = await store.blobs.putBytes(configBytes, MediaType.ociConfig);
    const layers: Descriptor[] = [];
    for (const layerPath of entry.Layers) {
      const blob = await storeArchiveFile(store, collected, layerPath, source);
      layers.push({ mediaType: await layerMediaType(store, blob.digest), digest: blob.digest, size: blob.size });
    }
    if ((config.rootfs?.diff_ids ?? []).length !== layers.length) {
      throw new StoreError('invalid', `${source}: ${entry.Config} lists ${config.rootfs?.diff_ids?.length ?? 0} diff_ids for ${layers.length} layers`);
    }
    const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor, layers };
    const descriptor = await store.putJson(manifest, MediaType.ociManifest);
    images.push({ descriptor, references: (entry.RepoTags ?? []).map((tag) => formatReference(parseReference(tag))) });
  }
  return images;
}

/** An archive path with its symlinks followed (docker save links duplicate layers). */
function archivePath(collected: Collected, name: string): string {
  let path = posix.normalize(name);
  for (let hops = 0; collected.symlinks.has(path) && hops < 8; hops++) path = collected.symlinks.get(path)!;
  return path;
}

/** The archive file as a blob in the store (small files were kept in memory until now). */
async function storeArchiveFile(store: Store, collected: Collected, name: string, source: string): Promise<{ digest: Digest; size: number }> {
  const path = archivePath(collected, name);
  const blob = collected.ingested.get(path);
  if (blob) return blob;
  const small = collected.small.get(path);
  if (!small) throw new StoreError('invalid', `${source}: manifest.json names ${name}, which the archive does not hold`);
  const stored = await store.blobs.putBytes(small, 'application/octet-stream');
  return { digest: stored.digest, size: stored.size };
}

async function archiveFileBytes(store: Store, collected: Collected, name: string, source: string): Promise<Buffer> {
  const small = collected.small.get(archivePath(collected, name));
  if (small) return small;
  return store.blobs.readBytes((await storeArchiveFile(store, collected, name, source)).digest);
}

async function layerMediaType(store: Store, digest: Digest): Promise<string> {
  const head = await firstBytes(store.openBlob(digest), 8);
  const compression = detectCompression(head);
  if (compression === 'gzip') return MediaType.ociLayerGzip;
  if (compression === 'zstd') return MediaType.ociLayerZstd;
  return MediaType.ociLayer;
}

/** Every blob an image needs must be in the store, whole, before it is tagged. */
async function checkComplete(store: Store, descriptor: Descriptor, source: string): Promise<void> {
  const missing = async (d: Descriptor) => !(await store.blobs.existsWithSize(d.digest, d.size));
  if (await missing(descriptor)) throw new StoreError('invalid', `${source}: ${descriptor.digest} is listed but missing or truncated`);
  if (isIndexType(descriptor.mediaType)) {
    const index = await store.readJson<Index>(descriptor.digest);
    for (const child of index.manifests) await checkComplete(store, child, source);
    return;
  }
  const image = await resolveImage(store.blobs, descriptor);
  const blobs = isArtifactManifest(image.manifest) ? image.manifest.layers : imageLayers(image).map((l) => l.descriptor);
  for (const layer of [image.manifest.config, ...blobs]) {
    if (await missing(layer)) {
      throw new StoreError('invalid', `${source}: image ${descriptor.digest} needs blob ${layer.digest}, which the archive does not hold (or holds truncated)`);
    }
  }
}

async function* tarEntries(path: string): AsyncGenerator<ArchiveEntry> {
  const file = createReadStream(path);
  const { stream } = await decompressedStream(file);
  const extractor = extract();
  stream.on('error', (error) => extractor.destroy(error));
  stream.pipe(extractor);
  try {
    for await (const entry of extractor) {
      const { header } = entry;
      const type = header.type === 'file' || header.type === 'contiguous-file' ? 'file' : header.type === 'symlink' ? 'symlink' : 'other';
      yield { name: header.name, type, size: header.size ?? 0, linkname: header.linkname ?? undefined, body: entry as unknown as Readable };
    }
  } finally {
    file.destroy(); // a failed load stops reading at once
  }
}

async function* directoryEntries(root: string, prefix = ''): AsyncGenerator<ArchiveEntry> {
  for (const name of (await readdir(join(root, prefix))).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const info = await lstat(join(root, rel));
    if (info.isDirectory()) {
      yield* directoryEntries(root, rel);
    } else if (info.isSymbolicLink()) {
      yield { name: rel, type: 'symlink', size: 0, linkname: await readlink(join(root, rel)), body: emptyReadable() };
    } else if (info.isFile()) {
      yield { name: rel, type: 'file', size: info.size, body: createReadStream(join(root, rel)) };
    }
  }
}

function emptyReadable(): Readable {
  return Readable.from([]) as Readable;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function firstBytes(stream: Readable, count: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    parts.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= count) break;
  }
  stream.destroy();
  return Buffer.concat(parts).subarray(0, count);
}

function parseJson<T>(bytes: Buffer, name: string, source: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw new StoreError('invalid', `${source}: ${name} is not valid JSON`, { cause: error });
  }
}

/** How a loaded image is named to the user. */
export function describeLoaded(image: LoadedImage): string {
  if (image.references.length === 0) return `Loaded image ${image.descriptor.digest} (untagged: name it with tsbuild tag, or prune removes it)`;
  return image.references.map((r) => `Loaded image: ${familiarReference(r)} (${image.descriptor.digest})`).join('\n');
}
