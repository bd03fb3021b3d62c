// The store's public surface: the ContentStore contract, its implementation, references,
// loading, and the maintenance operations (verify, du, prune).

export type { CacheRecord, ContentStore, LayerRef, StoredImage } from './types.js';
export { isLocalRecordKey, localRecordKey } from './cache.js';
export { Store, defaultStoreRoot } from './store.js';
export { load, describeLoaded, type LoadOptions, type LoadedImage } from './load.js';
export { hostPlatform, imageLayers } from './images.js';
export { listImages, removeImage, inspectImage, tagImage, type ImageSummary, type InspectResult } from './catalog.js';
export { prune, selectCacheEvictions, type PruneOptions, type PruneReport } from './prune.js';
export { verify, type VerifyProblem, type VerifyReport } from './verify.js';
export { diskUsage, type DiskUsage, type ImageUsage } from './du.js';
export { mark, type GcNode } from './gc.js';
export { parseSize, parseDuration, formatSize } from './units.js';
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
