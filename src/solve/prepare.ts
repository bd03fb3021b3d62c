// Before solving: read the recipe and .dockerignore, find the base images in the store, and
// plan. Every failure here is the user's to fix and says where (file:line:col when it can).

import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { BuildError, UsageError } from '../errors.js';
import { isGitUrl, redactUrl, type GitOrigin } from '../lib/git-url.js';
import type { ContextFilter } from '../exec/copy/types.js';
import { exceptionMayMatchBelow } from '../exec/context/index.js';
import type { GitEnv } from '../exec/git/cli.js';
import { parseRecipe } from '../recipe/parse.js';
import { createIgnoreMatcher, ignoreFileCandidates, readIgnorePatterns } from '../recipe/dockerignore.js';
import { baseImageRefs, planBuild } from '../plan/plan.js';
import type { BaseImageInfo, BuildGraph, NamedContext, PlanOptions } from '../plan/types.js';
import type { EventSink } from '../events.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { baseImageInfo, findBaseImages, missingBaseError } from './base-images.js';
import { checkoutGitContext, type GitCheckout } from './git-source.js';
import type { LocalDir } from './runtime.js';

export interface PrepareOptions {
  /** The context directory; not read when `contextGit` is given. */
  contextDir?: string;
  /** A git URL (`https://host/repo.git#ref:subdir`, `git@host:repo.git` …) whose checkout is the context. */
  contextGit?: string;
  /** Where git finds proxies and an ssh agent (`HTTPS_PROXY`…, `SSH_AUTH_SOCK`): the CLI passes its env. */
  gitEnv?: GitEnv;
  signal?: AbortSignal;
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
  /** `--build-context NAME=VALUE`: VALUE a dir (relative to `displayDir`), a git URL, or docker-image://REF. */
  buildContexts?: Record<string, string>;
  /** Told of git checkouts as transfers, since a large repository takes a while before any step shows. */
  onEvent?: EventSink;
}

export interface PreparedBuild {
  graph: BuildGraph;
  /** The context's files: the given dir, or a git checkout that `release` removes. */
  contextDir: string;
  /** Set when the context is a git checkout. */
  contextGit?: GitOrigin;
  /** The Dockerfile's absolute path. */
  recipePath: string;
  bases: Map<string, StoredImage>;
  contextFilter: ContextFilter;
  /** The named contexts that are local dirs, by lower-case name. */
  namedContexts: Map<string, LocalDir>;
  /** The named contexts that are `docker-image://REF`: REF by lower-case name. */
  namedImages: Map<string, string>;
  /** Removes the git checkouts; call it once the build is over, whatever its outcome. */
  release(): Promise<void>;
}

export async function prepareBuild(store: ContentStore, options: PrepareOptions): Promise<PreparedBuild> {
  const checkouts: GitCheckout[] = [];
  const release = async () => {
    for (const checkout of checkouts.splice(0)) await checkout.release();
  };
  try {
    const context = await openContext(store, options, checkouts);
    const named = await namedContexts(store, options, checkouts);
    return { ...(await planFromContext(store, options, context, named)), release };
  } catch (error) {
    await release();
    throw error;
  }
}

interface OpenedContext {
  dir: string;
  git?: GitOrigin;
}

/** The context dir; a git context is checked out first (BUILDKIT_CONTEXT_KEEP_GIT_DIR keeps its .git). */
async function openContext(store: ContentStore, options: PrepareOptions, checkouts: GitCheckout[]): Promise<OpenedContext> {
  if (options.contextGit === undefined) {
    const dir = resolve(options.contextDir ?? '.');
    await requireDirectory(dir);
    return { dir };
  }
  const keepGitDir = ['1', 'true'].includes(options.buildArgs?.BUILDKIT_CONTEXT_KEEP_GIT_DIR ?? '');
  const checkout = await checkoutGitContext(store, options.contextGit, { keepGitDir, signal: options.signal, gitEnv: options.gitEnv }, options.onEvent);
  checkouts.push(checkout);
  return { dir: checkout.dir, git: checkout.origin };
}

async function planFromContext(store: ContentStore, options: PrepareOptions, context: OpenedContext, named: NamedContexts): Promise<Omit<PreparedBuild, 'release'>> {
  const contextDir = context.dir;
  const file = await recipePath(options, context);
  // A checkout's path means nothing to the user: its recipe is named as in the repository.
  const shown = context.git ? displayName(file, [contextDir]) : displayName(file, [options.displayDir, contextDir]);
  const source = options.recipeText ?? (await readRecipe(file, options.file === undefined, context.git ? `${shown} of ${context.git.url}` : file));
  const recipe = parseRecipe(source, options.recipeText === undefined ? shown : 'stdin');
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
    graph, contextDir, ...(context.git ? { contextGit: context.git } : {}), recipePath: file, bases: found,
    contextFilter: await contextFilter(file, contextDir, context.git !== undefined), namedContexts: named.dirs, namedImages: named.images,
  };
}

/**
 * The Dockerfile: `-f` (relative to the context), else CONTEXT/Dockerfile. In a git context a
 * relative one must stay inside the context, through symlinks too: a repository must not make
 * the build read (and show in errors) a file of the host.
 */
async function recipePath(options: PrepareOptions, context: OpenedContext): Promise<string> {
  const file = resolve(context.dir, options.file ?? 'Dockerfile');
  const local = !context.git || options.recipeText !== undefined || (options.file !== undefined && isAbsolute(options.file));
  if (local) return file;
  const real = await realpath(file).catch(() => file);
  if (!relative(await realpath(context.dir), real).startsWith('..')) return file;
  throw new UsageError(`-f ${options.file ?? 'Dockerfile'}: the Dockerfile of a git context must be a file of the context`, {
    hint: 'give a path relative to the context (the repository or its subdir), or an absolute path to a local file',
  });
}

/** A `--build-context` value naming an image: `docker-image://REF`. */
export const IMAGE_SCHEME = 'docker-image://';

interface NamedContexts {
  plan: Record<string, NamedContext>;
  dirs: Map<string, LocalDir>;
  images: Map<string, string>;
}

/** Parses `--build-context` values: local dirs and git checkouts (each with its own .dockerignore), and image refs. */
async function namedContexts(store: ContentStore, options: PrepareOptions, checkouts: GitCheckout[]): Promise<NamedContexts> {
  const cwd = options.displayDir ?? options.contextDir ?? '.';
  const named: NamedContexts = { plan: {}, dirs: new Map(), images: new Map() };
  for (const [rawName, value] of Object.entries(options.buildContexts ?? {})) {
    const name = rawName.toLowerCase();
    // Names ignore case, as FROM and --from= do; two spellings of one name would leave either meaning.
    if (named.dirs.has(name) || named.images.has(name)) {
      throw new UsageError(`--build-context ${rawName}: the name ${name} is given twice (names ignore case)`, {
        hint: 'give each named context once',
      });
    }
    if (value.startsWith(IMAGE_SCHEME)) {
      const ref = value.slice(IMAGE_SCHEME.length);
      named.plan[name] = { kind: 'image', ref };
      named.images.set(name, ref);
      continue;
    }
    named.plan[name] = { kind: 'dir' };
    named.dirs.set(name, await namedDir(store, rawName, value, cwd, options, checkouts));
  }
  return named;
}

/** A named context that is a directory: a local one, or a git checkout kept until the build is over. */
async function namedDir(store: ContentStore, rawName: string, value: string, cwd: string, options: PrepareOptions, checkouts: GitCheckout[]): Promise<LocalDir> {
  if (isGitUrl(value)) {
    const checkout = await checkoutGitContext(store, value, { keepGitDir: false, signal: options.signal, gitEnv: options.gitEnv }, options.onEvent);
    checkouts.push(checkout);
    return { path: checkout.dir, filter: await contextFilter(join(checkout.dir, 'Dockerfile'), checkout.dir, true), git: checkout.origin };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.startsWith('target:')) {
    throw new UsageError(`--build-context ${rawName}=${redactUrl(value)}: only local directories, git repositories and docker-image:// references are supported`, {
      hint: 'download the source into a directory and name that, or load the image and use docker-image://NAME',
    });
  }
  const path = resolve(cwd, value);
  await requireDirectory(path, `--build-context ${rawName}`);
  return { path, filter: await contextFilter(join(path, 'Dockerfile'), path) };
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

/** `shownAs`: how the message names the file (a git checkout's path means nothing to the user). */
async function readRecipe(file: string, defaulted: boolean, shownAs: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new BuildError('E_RECIPE_NOT_FOUND', `cannot read the Dockerfile ${shownAs}`, {
      cause,
      hint: defaulted ? 'put a Dockerfile in the context, or name one with -f' : 'check the path given to -f',
    });
  }
}

/** `.dockerignore` (or `<Dockerfile>.dockerignore`, which wins, as in BuildKit). */
async function contextFilter(dockerfile: string, contextDir: string, confined = false): Promise<ContextFilter> {
  const found = await readIgnoreFile(dockerfile, contextDir, confined);
  if (found !== undefined) {
    const patterns = readIgnorePatterns(found.content);
    // mayIncludeBelow: an excluded dir is still walked when an exception (`!dir/keep`) may match below it.
    return { isExcluded: createIgnoreMatcher(patterns), mayIncludeBelow: exceptionMayMatchBelow(patterns) };
  }
  return { isExcluded: () => false };
}

/**
 * The .dockerignore that applies, if any. `confined` (a git checkout): one in the context is
 * read only when it does not lead out of it through a symlink, so a repository cannot make the
 * build read (and an archive keep) a file of the host.
 */
export async function readIgnoreFile(dockerfile: string, contextDir: string, confined: boolean): Promise<{ path: string; content: string } | undefined> {
  for (const candidate of ignoreFileCandidates(dockerfile, contextDir)) {
    if (confined && isInside(contextDir, candidate)) {
      const real = await realpath(candidate).catch(() => undefined);
      if (real === undefined || !isInside(await realpath(contextDir), real)) continue;
    }
    const content = await readFile(candidate, 'utf8').catch(() => undefined);
    if (content !== undefined) return { path: candidate, content };
  }
  return undefined;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return !rel.startsWith('..') && !isAbsolute(rel);
}
