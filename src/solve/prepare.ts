// Before solving: read the recipe and .dockerignore, find the base images in the store, and
// plan. Every failure here is the user's to fix and says where (file:line:col when it can).

import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { BuildError, UsageError } from '../errors.js';
import type { ContextFilter } from '../exec/copy/types.js';
import { exceptionMayMatchBelow } from '../exec/context/index.js';
import { parseRecipe } from '../recipe/parse.js';
import { createIgnoreMatcher, ignoreFileCandidates, readIgnorePatterns } from '../recipe/dockerignore.js';
import { baseImageRefs, planBuild } from '../plan/plan.js';
import type { BaseImageInfo, BuildGraph, PlanOptions } from '../plan/types.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { baseImageInfo, findBaseImages, missingBaseError } from './base-images.js';

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
}

export interface PreparedBuild {
  graph: BuildGraph;
  /** The Dockerfile's absolute path. */
  recipePath: string;
  bases: Map<string, StoredImage>;
  contextFilter: ContextFilter;
}

export async function prepareBuild(store: ContentStore, options: PrepareOptions): Promise<PreparedBuild> {
  const contextDir = resolve(options.contextDir);
  await requireDirectory(contextDir);
  const file = resolve(contextDir, options.file ?? 'Dockerfile');
  const source = options.recipeText ?? (await readRecipe(file, options.file === undefined));
  const recipe = parseRecipe(source, options.recipeText === undefined ? displayName(file, [options.displayDir, contextDir]) : 'stdin');
  const planOptions: PlanOptions = { target: options.target, buildArgs: options.buildArgs, platform: options.platform };
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
  return { graph, recipePath: file, bases: found, contextFilter: await contextFilter(file, contextDir) };
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

async function requireDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UsageError(`build context ${dir} is not a directory`, { hint: 'pass the directory holding your sources, e.g. tsbuild build .' });
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
