// `tsbuild store verify`: re-hash every blob, follow every tag to its manifest, config and
// layers, check every snapshot's shape and every cache record's layer. Problems are listed
// with the object named; leftovers of killed processes are listed apart, as reclaimable.

import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../lib/digest.js';
import type { Descriptor, Index, Manifest } from '../layer/oci.js';
import { readCacheFile } from './cache.js';
import { isArtifactManifest, isIndexType, isManifestType } from './images.js';
import { findLeftovers, type Leftover } from './leftovers.js';
import type { SnapshotInfo } from './snapshots.js';
import type { Store } from './store.js';

export interface VerifyProblem {
  /** What is wrong: a blob digest, a tag, a snapshot or cache file. */
  object: string;
  message: string;
}

export interface VerifyReport {
  problems: VerifyProblem[];
  checked: { blobs: number; bytes: number; tags: number; snapshots: number; cacheRecords: number };
  leftovers: Leftover[];
}

export async function verify(store: Store): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const report = (object: string, message: string) => problems.push({ object, message });
  const checked = { blobs: 0, bytes: 0, tags: 0, snapshots: 0, cacheRecords: 0 };

  for (const name of await store.blobs.list()) {
    if (!/^[a-f0-9]{64}$/.test(name)) {
      report(join(store.layout.blobsDir, name), 'a file that is not named by a sha256 digest');
      continue;
    }
    const digest = `sha256:${name}` as Digest;
    const actual = await store.blobs.hash(digest);
    checked.blobs++;
    checked.bytes += actual.size;
    if (actual.digest !== digest) report(digest, `blob ${digest} is corrupt: its content hashes to ${actual.digest}`);
  }

  let tags: Awaited<ReturnType<Store['tags']['list']>> = [];
  try {
    tags = await store.tags.list();
  } catch (error) {
    report(store.layout.indexPath, `the tag index cannot be read: ${(error as Error).message}`);
  }
  for (const tag of tags) {
    checked.tags++;
    for (const message of await checkGraph(store, tag.descriptor)) report(tag.reference, message);
  }

  for (const name of await store.snapshots.list()) {
    checked.snapshots++;
    const message = await checkSnapshot(join(store.layout.snapshotsDir, name), name);
    if (message) report(`snapshot ${name}`, message);
  }

  for (const shard of await readdir(store.layout.cacheDir).catch(() => [] as string[])) {
    for (const name of await readdir(join(store.layout.cacheDir, shard)).catch(() => [] as string[])) {
      if (name.startsWith('.tmp-')) continue;
      const file = join(store.layout.cacheDir, shard, name);
      checked.cacheRecords++;
      const entry = await readCacheFile(file);
      const layer = entry?.record.layer;
      if (!entry) report(file, 'cache record is not valid JSON');
      else if (layer && !(await store.blobs.existsWithSize(layer.descriptor.digest, layer.descriptor.size))) {
        report(file, `cache record ${entry.key} names layer ${layer.descriptor.digest}, which is missing or truncated`);
      }
    }
  }
  return { problems, checked, leftovers: await findLeftovers(store.layout) };
}

/** Problems in the graph below a tagged descriptor: missing or mistyped blobs, size mismatches. */
async function checkGraph(store: Store, descriptor: Descriptor, depth = 0): Promise<string[]> {
  const size = await store.blobs.size(descriptor.digest);
  if (size === undefined) return [`${descriptor.digest} (${descriptor.mediaType}) is missing`];
  if (size !== descriptor.size) return [`${descriptor.digest} has ${size} bytes, its descriptor says ${descriptor.size}`];
  if (depth > 4) return [`${descriptor.digest}: indexes nest too deeply`];
  try {
    if (isIndexType(descriptor.mediaType)) {
      const index = await store.readJson<Index>(descriptor.digest);
      const nested = await Promise.all(index.manifests.map((m) => checkGraph(store, m, depth + 1)));
      return nested.flat();
    }
    if (!isManifestType(descriptor.mediaType)) return [];
    const manifest = await store.readJson<Manifest>(descriptor.digest);
    const out = (await Promise.all([manifest.config, ...manifest.layers].map((d) => checkGraph(store, d, depth + 1)))).flat();
    if (out.length > 0 || isArtifactManifest(manifest)) return out;
    const config = await store.readJson<{ rootfs?: { diff_ids?: unknown[] } }>(manifest.config.digest);
    const diffIds = config.rootfs?.diff_ids?.length ?? 0;
    if (diffIds !== manifest.layers.length) return [`manifest ${descriptor.digest} has ${manifest.layers.length} layers but its config lists ${diffIds} diff_ids`];
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

async function checkSnapshot(dir: string, name: string): Promise<string | undefined> {
  if (!/^[a-f0-9]{64}$/.test(name)) return 'not named by a diffID';
  const fs = await lstat(join(dir, 'fs')).catch(() => undefined);
  if (!fs?.isDirectory()) return 'has no fs/ directory';
  let info: SnapshotInfo;
  try {
    info = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')) as SnapshotInfo;
  } catch {
    return 'has no readable info.json';
  }
  if (info.diffId !== `sha256:${name}`) return `info.json names ${info.diffId}`;
  return undefined;
}
