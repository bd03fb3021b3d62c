// exec/: RUN in the native sandbox, COPY/ADD as file operations in TypeScript.

export type * from './types.js';
// COPY/ADD file operations, layered roots, users, context hashing
export { LayeredRoot, type LayeredEntry, type LayeredRootOptions, type ResolveOptions } from './layered-root.js';
export { resolveUser, resolveChown, type ResolvedUser } from './users.js';
export * from './copy/index.js';
export * from './context/index.js';
