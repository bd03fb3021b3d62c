// The remote cache around one build (`--cache-from`, `--cache-to`). The solver gets a store
// whose cache lookups fall back to the imported caches (in the order given) and that
// remembers every record the build used or made; after the build those records are what
// `--cache-to` exports. Imported layers are downloaded only when something reads them: a
// step that runs, or the image the build exports (`fetchLayers`).

import { CancelledError, isTsbuildError } from '../errors.js';
import type { LayerRef, CacheRecord, ContentStore, StoredImage } from '../store/types.js';
import { isLocalRecordKey } from '../store/cache.js';
import { exportCache, importCache, type CacheExportResult, type CacheSource, type CacheTarget, type ImportedCache } from './cache.js';
import { withImportedCache } from './cache-store.js';
import type { RegistryOptions } from './options.js';

export interface BuildCache {
  /** The store the solver uses. */
  readonly store: ContentStore;
  /** Downloads the blobs of these layers that only an imported cache has. */
  fetchLayers(layers: readonly LayerRef[]): Promise<void>;
  /** Exports the records this build used or made; `mode=min` keeps those of `image`'s layers and layerless ones. */
  exportTo(targets: readonly CacheTarget[], image: StoredImage): Promise<CacheExportResult[]>;
  close(): void;
}

/**
 * A cache source that cannot be read (not exported yet, as on a branch's first CI run, or
 * unreachable) is a warning, as in BuildKit: the build runs without it.
 */
export async function openBuildCache(store: ContentStore, sources: readonly CacheSource[], options: RegistryOptions = {}): Promise<BuildCache> {
  const imports: ImportedCache[] = [];
  for (const source of sources) {
    try {
      imports.push(await importCache(store, source, options));
    } catch (error) {
      if (!isTsbuildError(error) || error instanceof CancelledError) {
        for (const imported of imports) imported.close();
        throw error;
      }
      const name = source.type === 'registry' ? source.ref : source.src;
      options.onEvent?.({ type: 'warning', time: Date.now(), message: `--cache-from ${name} is not used: ${error.message}` });
    }
  }
  const merged = imports.length > 0 ? mergeImports(imports) : undefined;
  const used = new Map<string, CacheRecord>();
  return {
    store: recordingCache(merged ? withImportedCache(store, merged) : store, used),
    async fetchLayers(layers) {
      if (!merged) return;
      const missing = await Promise.all(layers.map(async (layer) => ((await store.hasBlob(layer.descriptor.digest)) ? [] : [layer])));
      await Promise.all(missing.flat().map((layer) => merged.ensureLayer(layer)));
    },
    async exportTo(targets, image) {
      const diffIds = new Set(image.config.rootfs.diff_ids);
      const entries = [...used].map(([key, record]) => ({ key, record, inOutput: record.layer === null || diffIds.has(record.layer.diffId) }));
      const results: CacheExportResult[] = [];
      for (const target of targets) results.push(await exportCache(store, entries, target, options));
      return results;
    },
    close: () => merged?.close(),
  };
}

/**
 * Several imports as one: the first that has a key answers it, and a layer is fetched from
 * the import whose record named it (a registry has only the blobs of its own cache).
 */
function mergeImports(imports: readonly ImportedCache[]): ImportedCache {
  const owners = new Map<string, ImportedCache>();
  return {
    size: imports.reduce((sum, imported) => sum + imported.size, 0),
    get(key) {
      for (const imported of imports) {
        const record = imported.get(key);
        if (!record) continue;
        if (record.layer && !owners.has(record.layer.descriptor.digest)) owners.set(record.layer.descriptor.digest, imported);
        return record;
      }
      return undefined;
    },
    ensureLayer: (layer) => (owners.get(layer.descriptor.digest) ?? imports[0]!).ensureLayer(layer),
    close: () => imports.forEach((imported) => imported.close()),
  };
}

/** `store`, remembering in `used` each cache record a lookup returned or the build saved. */
function recordingCache(store: ContentStore, used: Map<string, CacheRecord>): ContentStore {
  const overrides: Pick<ContentStore, 'getCacheRecord' | 'putCacheRecord'> = {
    async getCacheRecord(key) {
      const record = await store.getCacheRecord(key);
      if (record && !isLocalRecordKey(key)) used.set(key, record);
      return record;
    },
    async putCacheRecord(key, record) {
      await store.putCacheRecord(key, record);
      if (!isLocalRecordKey(key)) used.set(key, record);
    },
  };
  return new Proxy(store, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof typeof overrides];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
