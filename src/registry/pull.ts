// `tsbuild pull` and the engine's pull of a missing base image. Order matters for "nothing
// half-written": config and layers go into the store first (each verified), then the
// manifest, and the tag last, so an interrupted pull leaves only unreferenced blobs that the
// next pull reuses and prune collects.

import { Readable } from 'node:stream';
import { LayerError, RegistryError } from '../errors.js';
import type { Digest } from '../lib/digest.js';
import { zstdAvailable } from '../layer/compress.js';
import type { Descriptor, Index, Manifest } from '../layer/oci.js';
import { formatReference, parseReference, type ImageReference } from '../store/reference.js';
import { hostPlatform, isIndexType, isManifestType } from '../store/images.js';
import type { ContentStore } from '../store/types.js';
import { RegistryClient, type FetchedManifest } from './client.js';
import { fetchBlob } from './fetch.js';
import { DEFAULTS, type RegistryOptions } from './options.js';
import { selectPlatform } from './platform.js';
import { formatPlatform } from '../lib/platform.js';
import { settleAll, TransferQueue } from './queue.js';

export interface PullResult {
  /** The normalised reference pulled: `docker.io/library/busybox:latest`. */
  reference: string;
  /** The image manifest stored (the chosen platform's, for an index). */
  manifest: Descriptor;
  /** The index or manifest list the reference named, when it was one. */
  index?: Descriptor;
}

export async function pullImage(store: ContentStore, reference: string, options: RegistryOptions = {}): Promise<PullResult> {
  const ref = parseReference(reference);
  const client = await RegistryClient.connect(ref.domain, options);
  try {
    return await pullWith(client, store, ref, options);
  } finally {
    client.close();
  }
}

async function pullWith(client: RegistryClient, store: ContentStore, ref: ImageReference, options: RegistryOptions): Promise<PullResult> {
  const name = formatReference(ref);
  const top = await client.getManifest(ref.path, ref.digest ?? ref.tag!);
  let chosen = top;
  let index: Descriptor | undefined;
  if (isIndexType(top.mediaType)) {
    index = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    const wanted = options.platform ?? hostPlatform();
    const list = JSON.parse(top.bytes.toString('utf8')) as Index;
    const match = selectPlatform(list.manifests ?? [], wanted);
    if (!match) {
      const offered = (list.manifests ?? []).flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : [])).join(', ') || 'none';
      throw new RegistryError('E_REGISTRY_NO_PLATFORM', `${name} has no image for ${formatPlatform(wanted)} (it offers: ${offered})`, {
        hint: 'Choose one of the offered platforms with --platform.',
      });
    }
    chosen = await client.getManifest(ref.path, match.digest);
  }
  const manifest = parseImageManifest(chosen, name);
  await fetchImageBlobs(store, client, ref.path, manifest, options);
  const descriptor: Descriptor = { mediaType: chosen.mediaType, digest: chosen.digest, size: chosen.bytes.length };
  await putBytes(store, chosen);
  if (index) await putBytes(store, top);
  if (ref.tag !== undefined && ref.digest === undefined) await store.setTag(name, descriptor);
  return { reference: name, manifest: descriptor, ...(index ? { index } : {}) };
}

function parseImageManifest(fetched: FetchedManifest, name: string): Manifest {
  if (!isManifestType(fetched.mediaType)) {
    throw new RegistryError('E_REGISTRY_UNSUPPORTED', `${name} is a ${fetched.mediaType || 'manifest of unknown type'}, not an image tsbuild can use`, {
      hint: 'tsbuild reads OCI and Docker v2 schema 2 images; Docker schema 1 images must be re-pushed with a current client.',
    });
  }
  const manifest = JSON.parse(fetched.bytes.toString('utf8')) as Manifest;
  if (manifest.schemaVersion !== 2 || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new RegistryError('E_REGISTRY_PROTOCOL', `the manifest of ${name} is malformed (no schemaVersion 2, config or layers)`);
  }
  if (!zstdAvailable() && manifest.layers.some((l) => l.mediaType.endsWith('+zstd'))) {
    throw new LayerError('E_LAYER_UNSUPPORTED', `${name} has zstd-compressed layers, which this Node.js runtime (${process.version}) cannot decompress`, {
      hint: 'Pull a gzip variant of the image, or run tsbuild on Node.js 22.15 or later.',
    });
  }
  return manifest;
}

/** The config and every layer, in parallel (bounded), skipping what the store has. */
async function fetchImageBlobs(store: ContentStore, client: RegistryClient, repository: string, manifest: Manifest, options: RegistryOptions): Promise<void> {
  const queue = new TransferQueue(options.concurrency ?? DEFAULTS.concurrency);
  const blobs = uniqueByDigest([manifest.config, ...manifest.layers]);
  await settleAll(blobs.map((blob) => queue.run(() => fetchBlob(store, client, repository, blob, options))));
}

function uniqueByDigest(descriptors: Descriptor[]): Descriptor[] {
  const seen = new Set<Digest>();
  return descriptors.filter((d) => !seen.has(d.digest) && seen.add(d.digest));
}

async function putBytes(store: ContentStore, fetched: FetchedManifest): Promise<void> {
  await store.ingest(Readable.from([fetched.bytes]), { digest: fetched.digest, size: fetched.bytes.length });
}
