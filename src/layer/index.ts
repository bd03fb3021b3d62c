// The layer module: deterministic layer tars, safe extraction, compression, OCI types.

export { writeLayer, type WriteLayerOptions, type WriteLayerResult } from './write.js';
export { extractLayer, type ExtractLayerOptions, type ExtractLayerResult } from './extract.js';
export type { WhiteoutMode } from './extraction.js';
export { compressLayer, decompressedStream, detectCompression, zstdAvailable, DEFAULT_GZIP_LEVEL, type Compression } from './compress.js';
export { readTar, type ReadEntry } from './tar-reader.js';
export type { EntryType, TarEntry } from './tar-header.js';
export { parseSourceDateEpoch } from './source-date-epoch.js';
export * from './oci.js';
