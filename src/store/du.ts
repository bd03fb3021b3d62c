// Disk usage: what the store holds, and per image its size, the part it shares with other
// images and the part only it uses. Objects (blobs and snapshots) are counted once however
// many images use them, so the images' total is less than the sum of their sizes.

import type { Digest } from '../lib/digest.js';
import type { Descriptor } from '../layer/oci.js';
import { familiarReference } from './reference.js';
import { sideRecordUsage } from './build-side-records.js';
import { blobNode, mark, storeRefs } from './gc.js';
import { objectSizes } from './prune.js';
import type { Store } from './store.js';

export interface ImageUsage {
  /** Familiar names (busybox:latest) of the tags that point at this manifest. */
  references: string[];
  digest: Digest;
  /** Every blob and snapshot the image uses. */
  size: number;
  /** The part also used by another image. */
  shared: number;
  /** The part only this image uses: what removing it would free. */
  unique: number;
}

export interface DiskUsage {
  /** Bytes of every blob and snapshot in the store. */
  total: number;
  blobs: { count: number; size: number };
  snapshots: { count: number; size: number };
  images: ImageUsage[];
  /** Bytes used by at least one image, each object once. */
  imagesTotal: number;
  /** Cache records and the bytes they hold that no image holds. */
  cache: { records: number; size: number };
  /** Bytes reachable from nothing kept: what `tsbuild prune` frees. */
  reclaimable: number;
  /** Step logs and build records (files), beside the objects. */
  logs: { count: number; size: number };
  /** RUN --mount=type=cache dirs: what `tsbuild prune --all` also frees. */
  cacheMounts: { count: number; size: number };
}

export async function diskUsage(store: Store): Promise<DiskUsage> {
  const sizes = await objectSizes(store);
  const refs = storeRefs(store.blobs);
  const byManifest = new Map<Digest, { descriptor: Descriptor; references: string[] }>();
  for (const tag of await store.tags.list()) {
    const entry = byManifest.get(tag.descriptor.digest) ?? { descriptor: tag.descriptor, references: [] };
    entry.references.push(familiarReference(tag.reference));
    byManifest.set(tag.descriptor.digest, entry);
  }
  const closures = new Map<Digest, Set<string>>();
  const users = new Map<string, number>();
  for (const [digest, { descriptor }] of byManifest) {
    const keys = new Set([...(await mark([blobNode(descriptor)], refs)).keys()].filter((k) => sizes.has(k)));
    closures.set(digest, keys);
    for (const key of keys) users.set(key, (users.get(key) ?? 0) + 1);
  }
  const images: ImageUsage[] = [...closures].map(([digest, keys]) => {
    let size = 0;
    let shared = 0;
    for (const key of keys) {
      size += sizes.get(key)!;
      if (users.get(key)! > 1) shared += sizes.get(key)!;
    }
    return { references: byManifest.get(digest)!.references.sort(), digest, size, shared, unique: size - shared };
  });
  images.sort((a, b) => b.size - a.size || (a.digest < b.digest ? -1 : 1));

  const entries = await store.cache.list();
  const cacheRoots = entries.flatMap((e) => (e.record.layer ? [blobNode(e.record.layer.descriptor), { kind: 'snapshot' as const, diffId: e.record.layer.diffId }] : []));
  const cacheKeys = [...(await mark(cacheRoots, refs)).keys()].filter((k) => sizes.has(k) && !users.has(k));
  const kept = new Set([...users.keys(), ...cacheKeys]);

  const sum = (predicate: (key: string) => boolean) => [...sizes].reduce((n, [key, size]) => (predicate(key) ? n + size : n), 0);
  const count = (prefix: string) => [...sizes.keys()].filter((k) => k.startsWith(prefix)).length;
  return {
    total: sum(() => true),
    blobs: { count: count('blob:'), size: sum((k) => k.startsWith('blob:')) },
    snapshots: { count: count('snapshot:'), size: sum((k) => k.startsWith('snapshot:')) },
    images,
    imagesTotal: sum((k) => users.has(k)),
    cache: { records: entries.length, size: cacheKeys.reduce((n, k) => n + sizes.get(k)!, 0) },
    reclaimable: sum((k) => !kept.has(k)),
    ...(await sideRecordUsage(store.layout)),
  };
}
