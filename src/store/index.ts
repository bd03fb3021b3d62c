// The store's public surface: the ContentStore contract, its implementation, references,
// loading, and the maintenance operations (verify, du, prune).

export type { CacheRecord, ContentStore, LayerRef, StoredImage } from './types.js';
export { Store, defaultStoreRoot } from './store.js';
export { load, describeLoaded, type LoadOptions, type LoadedImage } from './load.js';
export { hostPlatform, imageLayers } from './images.js';
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  familiarReference,
  formatReference,
  normalizeReference,
  parseReference,
  repositoryName,
  type ImageReference,
} from './reference.js';
