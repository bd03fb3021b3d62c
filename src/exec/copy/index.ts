export { copyIntoLayer } from './copy.js';
export { isRemoteSource } from './select.js';
export { isArchiveFile, detectCompression, type Compression } from './archive.js';
export { parseChmod, type ModeChange } from './chmod.js';
export type { ContextFilter, CopySource, CopySelection, CopyRequest, CopyResult } from './types.js';
