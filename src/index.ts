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
  listImages,
  removeImage,
  inspectImage,
  prune,
  verify as verifyStore,
  diskUsage,
  parseSize,
  parseDuration,
  formatSize,
  type ImageSummary,
  type InspectResult,
  type PruneOptions,
  type PruneReport,
  type VerifyProblem,
  type VerifyReport,
  type DiskUsage,
  type ImageUsage,
} from './store/index.js';

// Sandbox (src/exec/sandbox.ts): run one step isolated by the native helper.
export { runSandboxed, sandboxHelperPath, sandboxHelperVersion } from './exec/sandbox.js';
export type { SandboxIO, SandboxLimits, SandboxMount, SandboxResult, SandboxSpec } from './exec/types.js';

// Recipe frontend (src/recipe, src/plan): Dockerfile text → Recipe → BuildGraph, .dockerignore.
export {
  parseRecipe,
  expandWord,
  expandWords,
  createIgnoreMatcher,
  readIgnorePatterns,
  ignoreFileCandidates,
  type Recipe,
  type Stage,
  type Instruction,
} from './recipe/index.js';
export { planBuild, baseImageRefs, isProxyArg, PROXY_ARG_NAMES, parsePlatform, formatPlatform } from './plan/index.js';
export type * from './plan/types.js';
