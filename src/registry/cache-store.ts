// The engine's one-line hook into an imported remote cache: a ContentStore that answers
// cache lookups from the local index first and the import second, and downloads a layer
// from the cache source the first time its snapshot is needed. Everything else is the
// wrapped store's. A build that only uses records (every step a hit) downloads nothing
// until it unpacks or exports a layer.

import type { ContentStore } from '../store/types.js';
import { isLocalRecordKey } from '../store/cache.js';
import type { ImportedCache } from './cache.js';

export function withImportedCache(store: ContentStore, imported: ImportedCache): ContentStore {
  return {
    get root() {
      return store.root;
    },
    get layout() {
      return store.layout;
    },
    hasBlob: (digest) => store.hasBlob(digest),
    ingest: (source, expected) => store.ingest(source, expected),
    putJson: (value, mediaType) => store.putJson(value, mediaType),
    openBlob: (digest) => store.openBlob(digest),
    readJson: (digest) => store.readJson(digest),
    blobPath: (digest) => store.blobPath(digest),
    setTag: (reference, manifest) => store.setTag(reference, manifest),
    resolveTag: (reference) => store.resolveTag(reference),
    getImage: (reference) => store.getImage(reference),
    async ensureSnapshot(layer) {
      if (!(await store.hasBlob(layer.descriptor.digest))) await imported.ensureLayer(layer);
      return store.ensureSnapshot(layer);
    },
    commitSnapshot: (diffId, dir, opaqueDirs) => store.commitSnapshot(diffId, dir, opaqueDirs),
    snapshotOpaqueDirs: (diffId) => store.snapshotOpaqueDirs(diffId),
    async getCacheRecord(key) {
      return (await store.getCacheRecord(key)) ?? (isLocalRecordKey(key) ? undefined : imported.get(key));
    },
    putCacheRecord: (key, record) => store.putCacheRecord(key, record),
    claimStep: (key, options) => store.claimStep(key, options),
    createTempDir: (purpose) => store.createTempDir(purpose),
    acquireLease: (digests) => store.acquireLease(digests),
  };
}
