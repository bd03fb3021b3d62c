// Image archives, streamed: an OCI image layout as a tarball (`type=oci`), and the same plus
// Docker's manifest.json and repositories (`type=docker`), which `docker load`, `podman load`
// and `skopeo docker-archive:` all read (the form `docker save` writes since Docker 25).
// Blobs are copied from the store as they are; nothing is recompressed. The tar itself is
// deterministic (fixed order, owners, modes and mtimes), so equal images give equal archives.

import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { canonicalJson } from '../lib/canonical-json.js';
import { digestHex, type Digest } from '../lib/digest.js';
import { MediaType, type Descriptor, type Index } from '../layer/oci.js';
import { familiarReference, parseReference } from '../store/reference.js';
import type { ContentStore, StoredImage } from '../store/types.js';

export interface ArchiveOptions {
  /** Image names (`-t`), for the index annotations and Docker's RepoTags. */
  names: string[];
  /** Clamp for file times in outputs that write files (`type=tar`); 0 when absent. */
  sourceDateEpoch?: number;
  /** `--annotation index:…` and `manifest-descriptor:…`, for index.json. */
  annotations?: LayoutAnnotations;
}

export interface LayoutAnnotations {
  /** On index.json itself. */
  index?: Record<string, string>;
  /** On the image's descriptor in index.json; the name annotations win over them. */
  manifestDescriptor?: Record<string, string>;
}

/**
 * A file of the archive: small text, a blob of the store, or a blob produced while the
 * archive is written (its size known beforehand), so it is never stored twice.
 */
export type ArchiveEntry =
  | { name: string; data: string }
  | { name: string; blob: Descriptor }
  | { name: string; size: number; produce: (out: Writable) => Promise<unknown> };

/** Writes an OCI image-layout tarball of `image` to `out` (ended when done). */
export function writeOciArchive(store: ContentStore, image: StoredImage, out: Writable, options: ArchiveOptions): Promise<void> {
  return writeArchive(store, layoutEntries(image, options), out);
}

/** Writes a `docker load` archive of `image` to `out` (ended when done). */
export function writeDockerArchive(store: ContentStore, image: StoredImage, out: Writable, options: ArchiveOptions): Promise<void> {
  const tags = options.names.map((name) => familiarReference(withDefaultTag(name)));
  const blobPath = (digest: Digest) => `blobs/sha256/${digestHex(digest)}`;
  const manifestJson = [{
    Config: blobPath(image.manifest.config.digest),
    RepoTags: tags,
    Layers: image.manifest.layers.map((layer) => blobPath(layer.digest)),
  }];
  const repositories: Record<string, Record<string, string>> = {};
  for (const tag of tags) {
    const colon = tag.lastIndexOf(':');
    (repositories[tag.slice(0, colon)] ??= {})[tag.slice(colon + 1)] = digestHex(image.manifest.config.digest);
  }
  const entries: ArchiveEntry[] = [
    ...layoutEntries(image, options),
    { name: 'manifest.json', data: JSON.stringify(manifestJson) },
    ...(tags.length ? [{ name: 'repositories', data: canonicalJson(repositories) }] : []),
  ];
  return writeArchive(store, entries, out);
}

function withDefaultTag(name: string): string {
  const ref = parseReference(name);
  return ref.tag === undefined && ref.digest === undefined ? `${name}:latest` : name;
}

/** oci-layout, index.json, then every blob once: manifest, config, layers. */
function layoutEntries(image: StoredImage, options: ArchiveOptions): ArchiveEntry[] {
  const [first] = options.names;
  const names: Record<string, string> = first === undefined ? {} : {
    'io.containerd.image.name': parseReferenceName(first),
    'org.opencontainers.image.ref.name': parseReference(withDefaultTag(first)).tag ?? 'latest',
  };
  const descriptorAnnotations = { ...options.annotations?.manifestDescriptor, ...names };
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [{ ...image.manifestDescriptor, ...nonEmpty(descriptorAnnotations) }],
    ...nonEmpty(options.annotations?.index ?? {}),
  };
  const blobs = [image.manifestDescriptor, image.manifest.config, ...image.manifest.layers];
  const seen = new Set<string>();
  const unique = blobs.filter((blob) => !seen.has(blob.digest) && seen.add(blob.digest));
  return [
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: canonicalJson(index) },
    { name: 'blobs/', data: '' },
    { name: 'blobs/sha256/', data: '' },
    ...unique.map((blob) => ({ name: `blobs/sha256/${digestHex(blob.digest)}`, blob })),
  ];
}

/** `{annotations}` when there are any: an empty map is left out of the JSON. */
function nonEmpty(annotations: Record<string, string>): { annotations?: Record<string, string> } {
  return Object.keys(annotations).length > 0 ? { annotations } : {};
}

function parseReferenceName(name: string): string {
  const ref = parseReference(withDefaultTag(name));
  return `${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}`;
}

/** Streams `entries` as one deterministic tar to `out`; blobs come from the store. */
export async function writeArchive(store: ContentStore, entries: ArchiveEntry[], out: Writable): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, out);
  try {
    for (const entry of entries) await packEntry(store, pack, entry);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
  }
  await writing;
}

async function packEntry(store: ContentStore, pack: tar.Pack, entry: ArchiveEntry): Promise<void> {
  const header = { name: entry.name, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
  if (entry.name.endsWith('/')) {
    pack.entry({ ...header, type: 'directory', mode: 0o755 });
    return;
  }
  if ('data' in entry) {
    pack.entry({ ...header, type: 'file', mode: 0o644 }, entry.data);
    return;
  }
  if ('produce' in entry) {
    const sink = pack.entry({ ...header, type: 'file', mode: 0o644, size: entry.size });
    await Promise.all([entry.produce(sink as unknown as Writable), finished(sink as unknown as Writable)]);
    return;
  }
  const sink = pack.entry({ ...header, type: 'file', mode: 0o644, size: entry.blob.size });
  await pipeline(store.openBlob(entry.blob.digest), sink);
}
