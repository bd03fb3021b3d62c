// tsbuild's library API: the CLI and the tests call only this. Each module adds its exports
// here.

// Store (src/store): the embedded content store, references, image loading.
export {
  Store,
  defaultStoreRoot,
  load as loadImage,
  describeLoaded,
  hostPlatform,
  imageLayers,
  parseReference,
  formatReference,
  normalizeReference,
  familiarReference,
  repositoryName,
  type CacheRecord,
  type ContentStore,
  type LayerRef,
  type StoredImage,
  type ImageReference,
  type LoadOptions,
  type LoadedImage,
} from './store/index.js';

// Sandbox (src/exec/sandbox.ts): run one step isolated by the native helper.
export { runSandboxed, sandboxHelperPath, sandboxHelperVersion } from './exec/sandbox.js';
export type { SandboxIO, SandboxLimits, SandboxMount, SandboxResult, SandboxSpec } from './exec/types.js';
