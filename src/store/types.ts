// The store's surface as solve/, export/, registry/ and replay/ see it. The implementation
// (store/store.ts) satisfies ContentStore; the other modules depend on this shape only.

import type { Readable } from 'node:stream';
import type { Digest } from '../lib/digest.js';
import type { Descriptor, ImageConfig, Manifest } from '../layer/oci.js';
import type { StoreLayout } from './layout.js';

/** A layer as the build knows it: its stored blob and its uncompressed digest. */
export interface LayerRef {
  /** The stored blob (uncompressed for layers tsbuild makes; as pulled for base layers). */
  descriptor: Descriptor;
  diffId: Digest;
}

/** What a cache key maps to: the step's layer, or none when the step changed no file. */
export interface CacheRecord {
  layer: LayerRef | null;
  /** A digest a local (`tsbuild.`) record remembers, e.g. what a COPY --from selects from a stage's layers. */
  digest?: Digest;
  createdAt: string;
}

export interface StoredImage {
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

export interface StepClaimOptions {
  /** Stops the wait (Ctrl-C, a failed sibling). */
  signal: AbortSignal;
  /** Told once, when the claim is held by another live process and this call starts waiting. */
  onWait?(holder: { pid: number }): void;
}

export interface ContentStore {
  readonly root: string;
  /** Where each kind of thing lives under `root`, the store's side records included. */
  readonly layout: StoreLayout;

  // Blobs: ingest → verify → rename; never visible half-written.
  hasBlob(digest: Digest): Promise<boolean>;
  /** Streams `source` in; verifies `expected` digest/size when given. */
  ingest(source: Readable, expected?: { digest?: Digest; size?: number }): Promise<{ digest: Digest; size: number }>;
  /** Stores canonical JSON and returns its descriptor. */
  putJson(value: unknown, mediaType: string): Promise<Descriptor>;
  /** Reads a blob, failing with StoreError('corrupt') if its bytes do not match the digest. */
  openBlob(digest: Digest): Readable;
  readJson<T>(digest: Digest): Promise<T>;
  blobPath(digest: Digest): string;

  // Tags: normalised Docker references (busybox → docker.io/library/busybox:latest).
  setTag(reference: string, manifest: Descriptor): Promise<void>;
  resolveTag(reference: string): Promise<Descriptor | undefined>;
  /** A tag or a manifest digest (`sha256:…`, `name@sha256:…`) → the image. */
  getImage(referenceOrDigest: string): Promise<StoredImage | undefined>;

  // Snapshots: unpacked layers, one directory per diffID, usable as overlay lowerdirs.
  /** Unpacks the layer if needed and returns its directory. */
  ensureSnapshot(layer: LayerRef): Promise<string>;
  /**
   * Adopts a finished directory (e.g. an overlay upper dir) as the snapshot of `diffId`;
   * `opaqueDirs` (relative paths) are its dirs marked opaque, when the caller knows them.
   */
  commitSnapshot(diffId: Digest, dir: string, opaqueDirs?: string[]): Promise<string>;
  /**
   * The dirs (relative, `a/b`) of a snapshot marked opaque, as recorded when it was made, or
   * undefined when not recorded: snapshots are never written in place, so this stays true.
   */
  snapshotOpaqueDirs(diffId: Digest): Promise<string[] | undefined>;

  // Cache index: step cache key → result.
  getCacheRecord(key: string): Promise<CacheRecord | undefined>;
  putCacheRecord(key: string, record: CacheRecord): Promise<void>;

  /**
   * The store-wide right to run the step of cache key `key`: a second process about to run the
   * same step waits here (`onWait` says who it waits for), then finds the result in the cache.
   */
  claimStep(key: string, options: StepClaimOptions): Promise<{ release(): Promise<void> }>;

  /** A scratch directory on the store's filesystem (so results can be renamed in), removed by `release`. */
  createTempDir(purpose: string): Promise<{ path: string; release(): Promise<void> }>;
  /** Protects what a running build uses from prune until released. */
  acquireLease(digests: Digest[]): Promise<{ add(digest: Digest): void; release(): Promise<void> }>;
}
