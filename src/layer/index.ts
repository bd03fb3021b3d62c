// The layer module: deterministic layer tars, safe extraction, compression, OCI types.

export { writeLayer, type WriteLayerOptions, type WriteLayerResult } from './write.js';
export { extractLayer, type ExtractLayerOptions, type ExtractLayerResult } from './extract.js';
export { compressLayer, detectCompression, zstdAvailable, DEFAULT_GZIP_LEVEL, type Compression } from './compress.js';
export { parseSourceDateEpoch } from './source-date-epoch.js';
export * from './oci.js';
