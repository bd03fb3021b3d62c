// The planner's public surface: Recipe + options → BuildGraph.

export { planBuild, baseImageRefs } from './plan.js';
export { PROXY_ARG_NAMES, isProxyArg } from './args.js';
export { formatPlatform, parsePlatform, hostPlatform } from './platform.js';
export type * from './types.js';
