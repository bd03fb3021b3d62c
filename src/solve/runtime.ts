// What the build steps share for one build: the store, the context, and the build-wide
// settings. Plain data plus the store handle; created once per build by solveBuild().

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError, type SourceLocation } from '../errors.js';
import type { SandboxLimits } from '../exec/types.js';
import type { ContextFilter } from '../exec/copy/types.js';
import type { StatCache } from '../exec/context/stat-cache.js';
import { knowOpaqueDirs, LayeredRoot } from '../exec/layered-root.js';
import type { SshAgents } from '../exec/ssh-forwarding.js';
import type { BuildGraph, FileSource } from '../plan/types.js';
import type { ContentStore } from '../store/types.js';
import type { GitOrigin } from '../lib/git-url.js';
import type { GitRefs } from './git-source.js';
import type { ImageState } from './image.js';
import type { SecretSource } from './run-mounts.js';
import type { StepKeyContext } from './step-definitions.js';

export interface BuildRuntime {
  store: ContentStore;
  graph: BuildGraph;
  contextDir: string;
  contextFilter?: ContextFilter;
  /** `--build-context NAME=DIR`: the local dirs COPY --from=NAME and mounts read, by name. */
  namedContexts: ReadonlyMap<string, LocalDir>;
  statCache: StatCache;
  keyContext: StepKeyContext;
  limits: SandboxLimits;
  sourceDateEpoch: number;
  /** SOURCE_DATE_EPOCH as RFC 3339, for history entries. */
  created: string;
  /** `--secret` sources by id; only RUN's secret mounts read them, never a key. */
  secrets: Readonly<Record<string, SecretSource>>;
  /** `--ssh` agents by id; only RUN's ssh mounts reach them, never a key. */
  ssh: Pick<SshAgents, 'has' | 'forward'>;
  /** The commits ADD's git sources name, resolved once per build. */
  gitRefs: GitRefs;
}

export interface LocalDir {
  path: string;
  filter?: ContextFilter;
  /** Set when the dir is a checkout of a git context (removed after the build). */
  git?: GitOrigin;
}

/** The host dir a file source reads, when it is the context or a named local context. */
export function localDir(runtime: BuildRuntime, from: FileSource): (LocalDir & { kind: 'dir' }) | undefined {
  if (from.kind === 'context') return { kind: 'dir', path: runtime.contextDir, filter: runtime.contextFilter };
  if (from.kind !== 'named') return undefined;
  const named = runtime.namedContexts.get(from.name);
  if (!named) throw new Error(`named context ${from.name} was planned but not given`);
  return { kind: 'dir', ...named };
}

/** The snapshot dirs of a state's layers, bottom first, unpacking any that are missing. */
export function snapshotDirs(runtime: BuildRuntime, state: ImageState): Promise<string[]> {
  return Promise.all(
    state.layers.map(async (layer) => {
      const dir = await runtime.store.ensureSnapshot(layer);
      const opaqueDirs = await runtime.store.snapshotOpaqueDirs(layer.diffId);
      if (opaqueDirs) knowOpaqueDirs(dir, opaqueDirs);
      return dir;
    }),
  );
}

export async function layeredRoot(runtime: BuildRuntime, state: ImageState): Promise<LayeredRoot> {
  return new LayeredRoot(await snapshotDirs(runtime, state));
}

/** A scratch dir in the store with an empty `upper` (and `work`, for overlayfs) inside. */
export async function scratchUpper(runtime: BuildRuntime, purpose: string) {
  const scratch = await runtime.store.createTempDir(purpose);
  const upperDir = join(scratch.path, 'upper');
  const workDir = join(scratch.path, 'work');
  await mkdir(upperDir, { mode: 0o755 });
  await mkdir(workDir, { mode: 0o700 });
  return { ...scratch, upperDir, workDir };
}

/**
 * Points an error that happened in a step at its Dockerfile line, so the one printer shows
 * the excerpt. Errors that already carry a location keep it.
 */
export async function atStep<T>(runtime: BuildRuntime, location: SourceLocation, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BuildError && error.location === undefined) {
      Object.assign(error, { location, source: runtime.graph.source });
    }
    throw error;
  }
}
