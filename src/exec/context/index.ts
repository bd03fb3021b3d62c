export { hashCopySources, type CopyHashSpec } from './hash.js';
export { StatCache, type StatCacheOptions } from './stat-cache.js';
export { exceptionMayMatchBelow } from './ignore-exceptions.js';
