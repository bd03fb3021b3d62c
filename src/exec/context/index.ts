export { hashCopySources, type CopyHashSpec } from './hash.js';
export { StatCache, type StatCacheOptions } from './stat-cache.js';
