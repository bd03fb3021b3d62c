// What `tsbuild images`, `rmi` and `inspect` see: the tagged images with their sizes.

import { StoreError } from '../errors.js';
import { isDigest, type Digest } from '../lib/digest.js';
import type { Descriptor, ImageConfig, Manifest } from '../layer/oci.js';
import { resolveImage } from './images.js';
import { familiarReference, normalizeReference } from './reference.js';
import type { Store } from './store.js';
import { tagKey } from './tags.js';

export interface ImageSummary {
  /** Normalised reference: docker.io/library/busybox:latest */
  reference: string;
  /** As people write it: busybox:latest */
  name: string;
  /** The manifest (or index) digest the tag points at. */
  digest: Digest;
  created?: string;
  platform: string;
  /** Bytes of the manifest, config and layer blobs. */
  size: number;
}

export async function listImages(store: Store): Promise<ImageSummary[]> {
  const out: ImageSummary[] = [];
  for (const tag of await store.tags.list()) {
    const summary: ImageSummary = { reference: tag.reference, name: familiarReference(tag.reference), digest: tag.descriptor.digest, platform: '?', size: tag.descriptor.size };
    try {
      const image = await resolveImage(store.blobs, tag.descriptor);
      summary.created = image.config.created;
      summary.platform = `${image.config.os}/${image.config.architecture}${image.config.variant ? `/${image.config.variant}` : ''}`;
      summary.size = blobBytes(image.manifestDescriptor, image.manifest);
    } catch {
      // A damaged image still lists, so it can be removed; verify says what is wrong.
    }
    out.push(summary);
  }
  return out;
}

function blobBytes(manifestDescriptor: Descriptor, manifest: Manifest): number {
  return manifestDescriptor.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
}

/**
 * Untags: a name removes that tag; a digest (or a 12+ digit prefix of one) removes every tag
 * that points at it. Content stays until `prune` finds it unreferenced. Returns the removed
 * references.
 */
export async function removeImage(store: Store, nameOrDigest: string): Promise<string[]> {
  const digest = await matchDigest(store, nameOrDigest);
  const tags = await store.tags.list();
  const targets = digest ? tags.filter((t) => t.descriptor.digest === digest).map((t) => t.reference) : [tagKey(nameOrDigest)];
  const removed = await store.tags.remove(targets);
  if (removed.length === 0) {
    throw new StoreError('not-found', `no image named ${nameOrDigest}`, { hint: 'tsbuild images lists the images in the store.' });
  }
  return removed.map((r) => r.reference);
}

/** `sha256:…`, or an unambiguous hex prefix of a tagged image's digest; else undefined. */
export async function matchDigest(store: Store, text: string): Promise<Digest | undefined> {
  if (isDigest(text)) return text;
  if (!/^[a-f0-9]{12,64}$/.test(text)) return undefined;
  const matches = new Set((await store.tags.list()).map((t) => t.descriptor.digest).filter((d) => d.startsWith(`sha256:${text}`)));
  if (matches.size > 1) throw new StoreError('invalid', `${text} matches ${matches.size} images`, { hint: 'Give more digits.' });
  return [...matches][0];
}

export interface InspectResult {
  reference?: string;
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

/** Manifest and config of an image named by tag, digest or digest prefix. */
export async function inspectImage(store: Store, nameOrDigest: string): Promise<InspectResult> {
  const digest = await matchDigest(store, nameOrDigest);
  const image = await store.getImage(digest ?? nameOrDigest);
  if (!image) throw new StoreError('not-found', `no image named ${nameOrDigest}`, { hint: 'tsbuild images lists the images in the store.' });
  return {
    ...(digest ? {} : { reference: normalizeReference(nameOrDigest) }),
    descriptor: image.manifestDescriptor,
    manifest: image.manifest,
    config: image.config,
  };
}

/** Points `target` at the image `source` names (tag, digest or digest prefix). */
export async function tagImage(store: Store, source: string, target: string): Promise<Descriptor> {
  tagKey(target); // a bad name fails before anything is looked up
  const digest = await matchDigest(store, source);
  const descriptor = digest ? await store.describeManifest(digest) : await store.resolveTag(source);
  if (!descriptor) throw new StoreError('not-found', `no image named ${source}`, { hint: 'tsbuild images lists the images in the store.' });
  await store.setTag(target, descriptor);
  return descriptor;
}
