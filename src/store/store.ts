// The Store: a directory, no daemon. It composes the blob store, tags, snapshots, the cache
// index and leases, and implements ContentStore (types.ts), the surface the rest of tsbuild
// codes against. Several processes may open one root at once; see leases.ts for how prune and
// writers keep out of each other's way.

import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { StoreError } from '../errors.js';
import { digestHex, isDigest, type Digest } from '../lib/digest.js';
import { acquireLock, isCode } from '../lib/lock.js';
import type { Descriptor } from '../layer/oci.js';
import { BlobStore, type ExpectedContent } from './blobs.js';
import { CacheIndex } from './cache.js';
import { storeFsError } from './fs-errors.js';
import { resolveImage } from './images.js';
import { StoreLayout, ownerTag } from './layout.js';
import { createLease, waitForPrune, type Lease } from './leases.js';
import { parseReference } from './reference.js';
import { SnapshotStore } from './snapshots.js';
import { TagStore } from './tags.js';
import type { CacheRecord, ContentStore, LayerRef, StepClaimOptions, StoredImage } from './types.js';

/** DESIGN.md: $TSBUILD_ROOT, else /var/lib/tsbuild for root, else $XDG_DATA_HOME/tsbuild. */
export function defaultStoreRoot(env: NodeJS.ProcessEnv, uid: number = process.getuid?.() ?? 0): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (uid === 0) return '/var/lib/tsbuild';
  const dataHome = env.XDG_DATA_HOME || join(env.HOME ?? '/tmp', '.local', 'share');
  return join(dataHome, 'tsbuild');
}

export class Store implements ContentStore {
  readonly layout: StoreLayout;
  readonly blobs: BlobStore;
  readonly tags: TagStore;
  readonly snapshots: SnapshotStore;
  readonly cache: CacheIndex;
  /** Set while this instance runs a prune, so its own writes do not wait for itself. */
  gcLockNonce: string | undefined;
  private implicitLease: (Lease & { file: string }) | undefined;

  readonly root: string;

  private constructor(root: string) {
    this.root = root;
    this.layout = new StoreLayout(root);
    const protect = (digests: Digest[]) => this.protect(digests);
    this.blobs = new BlobStore(this.layout, protect);
    this.tags = new TagStore(this.layout);
    this.snapshots = new SnapshotStore(this.layout, this.blobs, protect, (purpose) => this.createTempDir(purpose));
    this.cache = new CacheIndex(this.layout, this.blobs, protect);
  }

  static async open(root: string): Promise<Store> {
    const store = new Store(root);
    try {
      for (const dir of [store.layout.blobsDir, store.layout.ingestDir, store.layout.tmpDir, store.layout.snapshotsDir, store.layout.cacheDir, store.layout.leasesDir, store.layout.locksDir]) {
        await mkdir(dir, { recursive: true });
      }
      await writeFile(store.layout.ociLayoutPath, '{"imageLayoutVersion":"1.0.0"}\n', { flag: 'wx' }).catch((error: unknown) => {
        if (!isCode(error, 'EEXIST')) throw error;
      });
    } catch (error) {
      const mapped = storeFsError(error, `opening the store at ${root}`);
      if (mapped !== error || typeof (error as NodeJS.ErrnoException).code !== 'string') throw mapped;
      throw new StoreError('invalid', `cannot open the store at ${root}: ${(error as Error).message}`, {
        cause: error,
        hint: '--root (or TSBUILD_ROOT) must name a directory, or a path where one can be created.',
      });
    }
    return store;
  }

  /** Releases this instance's implicit lease; what it wrote is then only kept if referenced. */
  async close(): Promise<void> {
    await this.implicitLease?.release();
    this.implicitLease = undefined;
  }

  /** Records `digests` in this instance's lease, then waits out a running prune (leases.ts). */
  async protect(digests: Digest[]): Promise<void> {
    try {
      this.implicitLease ??= createLease(this.layout, 'store session', []);
      for (const digest of digests) this.implicitLease.add(digest);
    } catch (error) {
      throw storeFsError(error, 'recording what this process uses (its lease)');
    }
    await waitForPrune(this.layout, this.gcLockNonce);
  }

  /** The file of this instance's implicit lease, if it has one (prune skips its own). */
  get implicitLeaseFile(): string | undefined {
    return this.implicitLease?.file;
  }

  // Blobs

  async hasBlob(digest: Digest): Promise<boolean> {
    await this.protect([digest]);
    return this.blobs.exists(digest);
  }

  ingest(source: Readable, expected?: ExpectedContent): Promise<{ digest: Digest; size: number }> {
    return this.blobs.ingest(source, expected);
  }

  putJson(value: unknown, mediaType: string): Promise<Descriptor> {
    return this.blobs.putJson(value, mediaType);
  }

  openBlob(digest: Digest): Readable {
    return this.blobs.open(digest);
  }

  readJson<T>(digest: Digest): Promise<T> {
    return this.blobs.readJson<T>(digest);
  }

  blobPath(digest: Digest): string {
    return this.layout.blob(digest);
  }

  // Tags

  async setTag(reference: string, manifest: Descriptor): Promise<void> {
    await this.protect([manifest.digest]);
    if (!(await this.blobs.exists(manifest.digest))) {
      throw new StoreError('not-found', `cannot tag ${reference}: manifest ${manifest.digest} is not in the store`);
    }
    await this.tags.set(reference, { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size });
  }

  async resolveTag(reference: string): Promise<Descriptor | undefined> {
    const ref = parseReference(reference);
    if (ref.digest !== undefined) return this.describeManifest(ref.digest);
    return this.tags.get(reference);
  }

  async getImage(referenceOrDigest: string): Promise<StoredImage | undefined> {
    const descriptor = isDigest(referenceOrDigest)
      ? await this.describeManifest(referenceOrDigest)
      : await this.resolveTag(referenceOrDigest);
    if (!descriptor) return undefined;
    await this.protect([descriptor.digest]);
    return resolveImage(this.blobs, descriptor);
  }

  /** A descriptor for a stored manifest or index known only by digest (its JSON names its type). */
  async describeManifest(digest: Digest): Promise<Descriptor | undefined> {
    await this.protect([digest]);
    if (!(await this.blobs.exists(digest))) return undefined;
    const bytes = await this.blobs.readBytes(digest);
    const json = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown };
    const mediaType = json.mediaType ?? (json.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json');
    return { mediaType, digest, size: bytes.length };
  }

  // Snapshots

  ensureSnapshot(layer: LayerRef): Promise<string> {
    return this.snapshots.ensure(layer);
  }

  commitSnapshot(diffId: Digest, dir: string, opaqueDirs?: string[]): Promise<string> {
    return this.snapshots.commit(diffId, dir, opaqueDirs);
  }

  snapshotOpaqueDirs(diffId: Digest): Promise<string[] | undefined> {
    return this.snapshots.opaqueDirs(diffId);
  }

  // Cache index

  getCacheRecord(key: string): Promise<CacheRecord | undefined> {
    return this.cache.get(key);
  }

  putCacheRecord(key: string, record: CacheRecord): Promise<void> {
    return this.cache.put(key, record);
  }

  claimStep(key: string, options: StepClaimOptions): Promise<{ release(): Promise<void> }> {
    // No timeout: a live holder is running the step, however long it takes; a dead one is reaped.
    return acquireLock(this.layout.lock(`step-${digestHex(key as Digest)}`), { ...options, purpose: 'running a build step', timeoutMs: Infinity });
  }

  // Scratch space and leases

  async createTempDir(purpose: string): Promise<{ path: string; release(): Promise<void> }> {
    const safe = purpose.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'tmp';
    const path = join(this.layout.tmpDir, `${ownerTag()}.${safe}.${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(path, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw storeFsError(error, `creating a temp dir in ${this.layout.tmpDir}`);
    }
    return { path, release: () => rm(path, { recursive: true, force: true }) };
  }

  /**
   * An explicit lease, held until released or until this process dies. `add` records at once
   * but cannot wait out a prune already running; hasBlob, ensureSnapshot, getCacheRecord and
   * every write protect what they touch themselves (for as long as this instance is open).
   */
  async acquireLease(digests: Digest[]): Promise<{ add(digest: Digest): void; release(): Promise<void> }> {
    let lease;
    try {
      lease = createLease(this.layout, 'lease', digests);
    } catch (error) {
      throw storeFsError(error, 'creating a lease');
    }
    await waitForPrune(this.layout, this.gcLockNonce);
    return lease;
  }
}
