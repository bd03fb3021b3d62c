// Before solving: read the recipe and .dockerignore, find the base images in the store, and
// plan. Every failure here is the user's to fix and says where (file:line:col when it can).

import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { BuildError, UsageError } from '../errors.js';
import type { ContextFilter } from '../exec/copy/types.js';
import { exceptionMayMatchBelow } from '../exec/context/index.js';
import { parseRecipe } from '../recipe/parse.js';
import { createIgnoreMatcher, ignoreFileCandidates, readIgnorePatterns } from '../recipe/dockerignore.js';
import { baseImageRefs, planBuild } from '../plan/plan.js';
import type { BaseImageInfo, BuildGraph, NamedContext, PlanOptions } from '../plan/types.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { baseImageInfo, findBaseImages, missingBaseError } from './base-images.js';
import type { LocalDir } from './runtime.js';

export interface PrepareOptions {
  contextDir: string;
  /** The Dockerfile; CONTEXT/Dockerfile when absent. */
  file?: string;
  /** The Dockerfile's text, given rather than read (from stdin): named `stdin` in messages. */
  recipeText?: string;
  target?: string;
  buildArgs?: Record<string, string>;
  platform?: string;
  /** Recipe file names in errors are shown relative to this dir (the user's cwd) when inside it, else to the context. */
  displayDir?: string;
  /** Plan even when base images are missing (a dry run): the plan warns instead of failing. */
  allowMissingBases?: boolean;
  /**
   * Fetches base images into the store (the registry's pull; solve/ cannot import it): given
   * the missing refs, or every ref with `refreshBases`; returns why refs could not be fetched.
   */
  fetchBases?: (refs: readonly string[]) => Promise<ReadonlyMap<string, Error>>;
  refreshBases?: boolean;
  /** `--build-context NAME=VALUE`: VALUE a dir (relative to `displayDir`) or docker-image://REF. */
  buildContexts?: Record<string, string>;
}

export interface PreparedBuild {
  graph: BuildGraph;
  /** The Dockerfile's absolute path. */
  recipePath: string;
  bases: Map<string, StoredImage>;
  contextFilter: ContextFilter;
  /** The named contexts that are local dirs, by lower-case name. */
  namedContexts: Map<string, LocalDir>;
  /** The named contexts that are `docker-image://REF`: REF by lower-case name. */
  namedImages: Map<string, string>;
}

export async function prepareBuild(store: ContentStore, options: PrepareOptions): Promise<PreparedBuild> {
  const contextDir = resolve(options.contextDir);
  await requireDirectory(contextDir);
  const file = resolve(contextDir, options.file ?? 'Dockerfile');
  const source = options.recipeText ?? (await readRecipe(file, options.file === undefined));
  const recipe = parseRecipe(source, options.recipeText === undefined ? displayName(file, [options.displayDir, contextDir]) : 'stdin');
  const named = await namedContexts(options.buildContexts ?? {}, options.displayDir ?? contextDir);
  const planOptions: PlanOptions = { target: options.target, buildArgs: options.buildArgs, platform: options.platform, namedContexts: named.plan };
  const refs = baseImageRefs(recipe, planOptions);
  let { found, missing } = await findBaseImages(store, refs);
  const wanted = options.refreshBases ? refs : missing;
  let fetchFailures: ReadonlyMap<string, Error> = new Map();
  if (options.fetchBases && !options.allowMissingBases && wanted.length > 0) {
    fetchFailures = await options.fetchBases(wanted);
    ({ found, missing } = await findBaseImages(store, refs));
  }
  const baseImages: Record<string, BaseImageInfo> = {};
  for (const [ref, image] of found) baseImages[ref] = baseImageInfo(image);
  const graph = planBuild(recipe, { ...planOptions, baseImages });
  if (missing.length > 0 && !options.allowMissingBases) throw missingBaseError(missing[0]!, graph, fetchFailures.get(missing[0]!));
  return {
    graph, recipePath: file, bases: found, contextFilter: await contextFilter(file, contextDir), namedContexts: named.dirs, namedImages: named.images,
  };
}

/** A `--build-context` value naming an image: `docker-image://REF`. */
export const IMAGE_SCHEME = 'docker-image://';

/** Parses `--build-context` values: local dirs (with their own .dockerignore) and image refs. */
async function namedContexts(given: Record<string, string>, cwd: string): Promise<{
  plan: Record<string, NamedContext>;
  dirs: Map<string, LocalDir>;
  images: Map<string, string>;
}> {
  const plan: Record<string, NamedContext> = {};
  const dirs = new Map<string, LocalDir>();
  const images = new Map<string, string>();
  for (const [rawName, value] of Object.entries(given)) {
    const name = rawName.toLowerCase();
    // Names ignore case, as FROM and --from= do; two spellings of one name would leave either meaning.
    if (dirs.has(name) || images.has(name)) {
      throw new UsageError(`--build-context ${rawName}: the name ${name} is given twice (names ignore case)`, {
        hint: 'give each named context once',
      });
    }
    if (value.startsWith(IMAGE_SCHEME)) {
      const ref = value.slice(IMAGE_SCHEME.length);
      plan[name] = { kind: 'image', ref };
      images.set(name, ref);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.startsWith('target:')) {
      throw new UsageError(`--build-context ${rawName}=${value}: only local directories and docker-image:// references are supported`, {
        hint: 'download or clone the source into a directory and name that, or load the image and use docker-image://NAME',
      });
    }
    const path = resolve(cwd, value);
    await requireDirectory(path, `--build-context ${rawName}`);
    plan[name] = { kind: 'dir' };
    dirs.set(name, { path, filter: await contextFilter(join(path, 'Dockerfile'), path) });
  }
  return { plan, dirs, images };
}

/** The recipe's name in messages: relative to the first of `dirs` it is inside, else absolute. */
function displayName(file: string, dirs: Array<string | undefined>): string {
  for (const dir of dirs) {
    if (dir === undefined) continue;
    const shown = relative(dir, file);
    if (!shown.startsWith('..') && !isAbsolute(shown)) return shown;
  }
  return file;
}

async function requireDirectory(dir: string, what = 'build context'): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UsageError(`${what} ${dir} is not a directory`, { hint: 'pass the directory holding your sources, e.g. tsbuild build .' });
  }
}

async function readRecipe(file: string, defaulted: boolean): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new BuildError('E_RECIPE_NOT_FOUND', `cannot read the Dockerfile ${file}`, {
      cause,
      hint: defaulted ? 'put a Dockerfile in the context, or name one with -f' : 'check the path given to -f',
    });
  }
}

/** `.dockerignore` (or `<Dockerfile>.dockerignore`, which wins, as in BuildKit). */
async function contextFilter(dockerfile: string, contextDir: string): Promise<ContextFilter> {
  for (const candidate of ignoreFileCandidates(dockerfile, contextDir)) {
    const text = await readFile(candidate, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const patterns = readIgnorePatterns(text);
    // mayIncludeBelow: an excluded dir is still walked when an exception (`!dir/keep`) may match below it.
    return { isExcluded: createIgnoreMatcher(patterns), mayIncludeBelow: exceptionMayMatchBelow(patterns) };
  }
  return { isExcluded: () => false };
}
