// `tsbuild push` and `--output type=registry`: blobs first (HEAD, then a cross-repository
// mount when the image came from another repository of the same registry, else an upload),
// child manifests by digest, the top manifest or index last under its tag. Layers that the
// store keeps uncompressed are gzip-compressed on the way (deterministically, so the same
// image always pushes the same digests); the config is pushed unchanged, so its diff_ids
// still name the uncompressed layers, as the image spec wants.

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { StoreError, UsageError } from '../errors.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { sha256, type Digest } from '../lib/digest.js';
import type { Descriptor, Index, Manifest } from '../layer/oci.js';
import { formatReference, parseReference } from '../store/reference.js';
import { isIndexType } from '../store/images.js';
import { compressedLayer } from '../store/compressed-layers.js';
import type { ContentStore } from '../store/types.js';
import { RegistryClient } from './client.js';
import { DEFAULTS, type RegistryOptions } from './options.js';
import { ProgressStream, transferLabel } from './progress.js';
import { settleAll, TransferQueue } from './queue.js';

export interface PushOptions extends RegistryOptions {
  /** Repositories of the target registry that may already hold the blobs (mount sources). */
  mountFrom?: string[];
}

export interface PushResult {
  /** The normalised reference pushed to. */
  reference: string;
  /** What the tag now names in the registry. */
  descriptor: Descriptor;
}

export async function pushImage(store: ContentStore, localRef: string, remoteRef: string = localRef, options: PushOptions = {}): Promise<PushResult> {
  const local = parseReference(localRef);
  const remote = parseReference(remoteRef);
  if (remote.digest !== undefined) {
    // Compression may change the manifest, so its digest is known only after the push.
    throw new UsageError(`cannot push to ${remoteRef}: a push needs a tag, not a digest`, { hint: 'Push to NAME:TAG; the digest is printed afterwards.' });
  }
  const top = await store.resolveTag(formatReference(local));
  if (!top) {
    throw new StoreError('not-found', `no image ${formatReference(local)} in the store`, { hint: 'Build, pull or load it first; tsbuild images lists what the store holds.' });
  }
  const mountFrom = [...(local.domain === remote.domain && local.path !== remote.path ? [local.path] : []), ...(options.mountFrom ?? [])];
  const client = await RegistryClient.connect(remote.domain, options);
  try {
    const session = new PushSession(store, client, remote.path, mountFrom, options);
    const pushed = await session.pushTree(top);
    await client.putManifest(remote.path, remote.tag!, pushed.bytes, pushed.descriptor.mediaType);
    return { reference: formatReference(remote), descriptor: pushed.descriptor };
  } finally {
    client.close();
  }
}

interface PushedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** Pushes blobs and manifests of one repository, each blob at most once. */
export class PushSession {
  private readonly queue: TransferQueue;
  private readonly blobs = new Map<Digest, Promise<Descriptor>>();
  private readonly store: ContentStore;
  private readonly client: RegistryClient;
  private readonly repository: string;
  private readonly mountFrom: string[];
  private readonly options: RegistryOptions;

  constructor(store: ContentStore, client: RegistryClient, repository: string, mountFrom: string[], options: RegistryOptions) {
    this.store = store;
    this.client = client;
    this.repository = repository;
    this.mountFrom = mountFrom;
    this.options = options;
    this.queue = new TransferQueue(options.concurrency ?? DEFAULTS.concurrency);
  }

  /**
   * Pushes what a manifest or index needs and returns the manifest to PUT (rewritten when
   * layers were compressed). Children of an index are PUT by digest here.
   */
  async pushTree(descriptor: Descriptor): Promise<PushedManifest> {
    const original = await readBlob(this.store, descriptor.digest);
    if (isIndexType(descriptor.mediaType)) return this.pushIndex(descriptor, original);
    const manifest = JSON.parse(original.toString('utf8')) as Manifest;
    const [, ...layers] = await settleAll([this.pushBlob(manifest.config), ...manifest.layers.map((l) => this.pushLayer(l))]);
    const changed = layers.some((layer, i) => layer.digest !== manifest.layers[i]!.digest);
    return changed ? jsonManifest({ ...manifest, layers }, descriptor) : { descriptor: plain(descriptor), bytes: original };
  }

  private async pushIndex(descriptor: Descriptor, original: Buffer): Promise<PushedManifest> {
    const index = JSON.parse(original.toString('utf8')) as Index;
    const missing = await Promise.all(index.manifests.map(async (m) => !(await this.store.hasBlob(m.digest))));
    if (missing.some(Boolean)) {
      throw new StoreError('not-found', `the store holds only some platforms of index ${descriptor.digest}`, {
        hint: 'Pull every platform of the image first, or push one platform by its manifest digest.',
      });
    }
    const children = await settleAll(
      index.manifests.map(async (child) => {
        const pushed = await this.pushTree(child);
        await this.client.putManifest(this.repository, pushed.descriptor.digest, pushed.bytes, pushed.descriptor.mediaType);
        return { ...child, digest: pushed.descriptor.digest, size: pushed.descriptor.size };
      }),
    );
    const changed = children.some((child, i) => child.digest !== index.manifests[i]!.digest);
    return changed ? jsonManifest({ ...index, manifests: children }, descriptor) : { descriptor: plain(descriptor), bytes: original };
  }

  /** Pushes a layer, compressing it first when the store keeps it uncompressed; returns what was pushed. */
  pushLayer(layer: Descriptor): Promise<Descriptor> {
    return this.once(layer.digest, async () => {
      const compressed = await compressedLayer(this.store, layer, {
        compression: 'gzip',
        observe: (l) => new ProgressStream(this.options.onEvent, `compress:${l.digest}`, transferLabel('compressing', l.digest), l.size),
      });
      await this.upload(compressed, (start, end) => createReadStream(this.store.blobPath(compressed.digest), { start, end }));
      return compressed;
    });
  }

  /** Pushes a blob as the store holds it. */
  pushBlob(blob: Descriptor): Promise<Descriptor> {
    return this.once(blob.digest, async () => {
      await this.upload(blob, (start, end) => createReadStream(this.store.blobPath(blob.digest), { start, end }));
      return blob;
    });
  }

  private once(key: Digest, push: () => Promise<Descriptor>): Promise<Descriptor> {
    let pending = this.blobs.get(key);
    if (!pending) {
      pending = this.queue.run(push);
      this.blobs.set(key, pending);
    }
    return pending;
  }

  /** HEAD, then mount, then upload: the cheapest way the registry can get the blob. */
  private async upload(blob: Descriptor, open: (start: number, end: number) => Readable): Promise<void> {
    if (await this.client.hasBlob(this.repository, blob.digest, 'push')) return;
    for (const from of this.mountFrom) {
      if (await this.client.mountBlob(this.repository, blob.digest, from).catch(() => false)) return;
    }
    const id = `push:${blob.digest}`;
    const withProgress = (start: number, end: number) => open(start, end).pipe(new ProgressStream(this.options.onEvent, id, transferLabel('pushing', blob.digest), blob.size, start));
    await this.client.uploadBlob(this.repository, blob, withProgress, this.options.chunkSize ?? DEFAULTS.chunkSize);
  }
}

function plain(descriptor: Descriptor): Descriptor {
  return { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
}

function jsonManifest(value: Manifest | Index, original: Descriptor): PushedManifest {
  const bytes = Buffer.from(canonicalJson(value));
  return { descriptor: { mediaType: original.mediaType, digest: sha256(bytes), size: bytes.length }, bytes };
}

async function readBlob(store: ContentStore, digest: Digest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.openBlob(digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
