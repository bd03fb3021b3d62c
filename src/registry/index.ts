// The registry module's surface: pull, push, login checks, credentials and the remote cache.

export type { RegistryOptions } from './options.js';
export { pullImage, type PullResult } from './pull.js';
export { pushImage, type PushOptions, type PushResult } from './push.js';
export { dockerConfigDir, type Credentials } from './credentials.js';
export {
  exportCache,
  importCache,
  CACHE_ARTIFACT_TYPE,
  type CacheExportEntry,
  type CacheExportResult,
  type CacheMode,
  type CacheSource,
  type CacheTarget,
  type ImportedCache,
  type ImportOptions,
} from './cache.js';
export { login, logout, normalizeRegistryName } from './login.js';
export { parseCacheFrom, parseCacheTo } from './cache-spec.js';
export { withImportedCache } from './cache-store.js';
