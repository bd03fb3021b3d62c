// Disk usage: what the store holds, and per image its size, the part it shares with other
// images or the build cache and the part only it keeps. Every figure is over a set of objects
// (blobs and snapshots) with each inode counted once (footprints.ts): an object many images
// use, and a file hard-linked into several snapshots, count once in a total.

import type { Digest } from '../lib/digest.js';
import type { Descriptor } from '../layer/oci.js';
import { familiarReference } from './reference.js';
import { sideRecordUsage } from './build-side-records.js';
import { Footprints, type ObjectSet } from './footprints.js';
import { blobNode, mark, storeRefs, type GcNode } from './gc.js';
import { cacheRoots, objectKeys } from './prune.js';
import type { Store } from './store.js';

export interface ImageUsage {
  /** Familiar names (busybox:latest) of the tags that point at this manifest. */
  references: string[];
  digest: Digest;
  /** Every blob and snapshot the image uses, each file once. */
  size: number;
  /** The part something else keeps too: another image or a cache record, by the same object or a hard link. */
  shared: number;
  /** What removing this image alone would free (untag it, then `tsbuild prune`). */
  unique: number;
}

export interface DiskUsage {
  /** Bytes of every blob and snapshot in the store, each file once. */
  total: number;
  blobs: { count: number; size: number };
  snapshots: { count: number; size: number };
  images: ImageUsage[];
  /** Bytes used by at least one image, each file once. */
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
  const objects = await objectKeys(store);
  const footprints = await new Footprints().read(store, objects);
  const refs = storeRefs(store.blobs);
  const present = new Set(objects);
  const reach = async (roots: GcNode[]) => [...(await mark(roots, refs)).keys()].filter((key) => present.has(key));

  const byManifest = await taggedManifests(store);
  const closures = new Map<Digest, string[]>();
  for (const [digest, { descriptor }] of byManifest) closures.set(digest, await reach([blobNode(descriptor)]));
  const entries = await store.cache.list();
  const cacheKeys = await reach(entries.flatMap(cacheRoots));
  // The build cache keeps what it reaches as an image does: a plain prune leaves it.
  const keepers = keeperCounts([...closures.values(), cacheKeys]);
  const unkept = footprints.set(objects.filter((key) => !keepers.has(key)));
  const images = [...closures].map(([digest, keys]) => ({
    references: byManifest.get(digest)!.references.sort(),
    digest,
    ...imageBytes(keys, footprints, keepers, unkept),
  }));
  images.sort((a, b) => b.size - a.size || (a.digest < b.digest ? -1 : 1));

  const imagesHeld = footprints.set([...closures.values()].flat());
  const ofKind = (prefix: string) => objects.filter((key) => key.startsWith(prefix));
  return {
    total: footprints.set(objects).held(),
    blobs: { count: ofKind('blob:').length, size: footprints.set(ofKind('blob:')).held() },
    snapshots: { count: ofKind('snapshot:').length, size: footprints.set(ofKind('snapshot:')).held() },
    images,
    imagesTotal: imagesHeld.held(),
    cache: { records: entries.length, size: imagesHeld.growth(cacheKeys).held },
    reclaimable: unkept.freed(),
    ...(await sideRecordUsage(store.layout)),
  };
}

/**
 * An image's size, and its unique part: what removing it alone frees beyond what prune frees
 * anyway. That is the objects only it keeps, and of their files those whose every link goes
 * too (with them or with the unkept objects). The rest is shared.
 */
function imageBytes(keys: string[], footprints: Footprints, keepers: Map<string, number>, unkept: ObjectSet): Pick<ImageUsage, 'size' | 'shared' | 'unique'> {
  const size = footprints.set(keys).held();
  const unique = unkept.growth(keys.filter((key) => keepers.get(key) === 1)).freed;
  return { size, shared: size - unique, unique };
}

/** The tagged manifests, each with the familiar names of its tags. */
async function taggedManifests(store: Store): Promise<Map<Digest, { descriptor: Descriptor; references: string[] }>> {
  const byManifest = new Map<Digest, { descriptor: Descriptor; references: string[] }>();
  for (const tag of await store.tags.list()) {
    const entry = byManifest.get(tag.descriptor.digest) ?? { descriptor: tag.descriptor, references: [] };
    entry.references.push(familiarReference(tag.reference));
    byManifest.set(tag.descriptor.digest, entry);
  }
  return byManifest;
}

/** For each object key, how many of `keepers` (each a set of keys: an image, the build cache) keep it. */
function keeperCounts(keepers: string[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const keys of keepers) for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
