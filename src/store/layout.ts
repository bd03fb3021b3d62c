// Where each kind of object lives under the store root. The blobs/ tree and index.json make
// the root itself an OCI image layout (skopeo inspect oci:ROOT:docker.io/library/x:tag works);
// everything else is tsbuild's own and OCI readers ignore it.
//
//   blobs/sha256/<hex>          content, immutable, named by digest
//   index.json, oci-layout      the tags (ref.name annotations hold normalised references)
//   ingest/<owner>.<rand>       blobs being written (owner = pid.starttime)
//   tmp/<owner>.<purpose>.<rand>/  scratch dirs: snapshot staging, build upper dirs
//   snapshots/<diffID hex>/fs   an unpacked layer, an overlay lowerdir; info.json beside fs
//   cache/<hh>/<hex>.json       cache key → CacheRecord
//   leases/<owner>.<rand>.lease what live processes use; prune keeps it
//   locks/<name>.lock           cross-process locks (src/lib/lock.ts)
//   logs/<key hex>.log          a step's whole output, by cache key (solve/step-logs.ts)
//   builds/<manifest hex>.json  a built image's steps and where their logs are
//   cache-mounts/<sha256(id)>/  RUN --mount=type=cache dirs, by id (solve/run-mounts.ts)
//   context-cache/<sha256(dir)>.json  file digests of a context dir by stat identity (exec/context/stat-cache.ts)

import { join } from 'node:path';
import { assertDigest, digestHex, sha256, isDigest, type Digest } from '../lib/digest.js';
import { currentProcess, processStartTime, type ProcessIdentity } from '../lib/lock.js';

export class StoreLayout {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  get blobsDir(): string {
    return join(this.root, 'blobs', 'sha256');
  }
  get ingestDir(): string {
    return join(this.root, 'ingest');
  }
  get tmpDir(): string {
    return join(this.root, 'tmp');
  }
  get snapshotsDir(): string {
    return join(this.root, 'snapshots');
  }
  get cacheDir(): string {
    return join(this.root, 'cache');
  }
  get leasesDir(): string {
    return join(this.root, 'leases');
  }
  get locksDir(): string {
    return join(this.root, 'locks');
  }
  get logsDir(): string {
    return join(this.root, 'logs');
  }
  get buildsDir(): string {
    return join(this.root, 'builds');
  }
  get cacheMountsDir(): string {
    return join(this.root, 'cache-mounts');
  }
  get contextCachesDir(): string {
    return join(this.root, 'context-cache');
  }
  get indexPath(): string {
    return join(this.root, 'index.json');
  }
  get ociLayoutPath(): string {
    return join(this.root, 'oci-layout');
  }

  blob(digest: Digest): string {
    return join(this.blobsDir, digestHex(assertDigest(digest)));
  }
  snapshot(diffId: Digest): string {
    return join(this.snapshotsDir, digestHex(assertDigest(diffId)));
  }
  lock(name: string): string {
    return join(this.locksDir, `${name}.lock`);
  }
  stepLog(cacheKey: string): string {
    return join(this.logsDir, `${cacheKey.replace(/^sha256:/, '')}.log`);
  }
  buildRecord(manifest: Digest): string {
    return join(this.buildsDir, `${digestHex(assertDigest(manifest))}.json`);
  }
  /** The id is hashed into the name, so no id can point outside. */
  cacheMount(id: string): string {
    return join(this.cacheMountsDir, digestHex(sha256(id)));
  }
  /** Where the file digests of the context dir `contextDir` are remembered between builds. */
  contextCache(contextDir: string): string {
    return join(this.contextCachesDir, `${digestHex(sha256(contextDir))}.json`);
  }
  /** Cache keys are digests in practice; any other string is hashed to a file name. */
  cacheRecord(key: string): string {
    const hex = isDigest(key) ? digestHex(key) : digestHex(sha256(key));
    return join(this.cacheDir, hex.slice(0, 2), `${hex}.json`);
  }
}

/** The prefix that names the owning process of an ingest file, temp dir or lease. */
export function ownerTag(): string {
  const me = currentProcess();
  return `${me.pid}.${me.start}`;
}

/** Parses the owner prefix back; undefined for names tsbuild did not make. */
export function ownerOf(name: string): ProcessIdentity | undefined {
  const match = /^(\d+)\.(\d+)\./.exec(name);
  return match ? { pid: Number(match[1]), start: match[2]! } : undefined;
}

/** True when the named owner is gone (so its leftovers may be removed). */
export function ownerIsDead(name: string): boolean {
  const owner = ownerOf(name);
  if (!owner) return true;
  return processStartTime(owner.pid) !== owner.start;
}
