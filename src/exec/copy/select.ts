// Which source entries a COPY/ADD selects: each source argument cleaned, its wildcards
// expanded, its symlinks followed inside the source root, what .dockerignore hides left out.
// walk.ts then walks each selected entry.

import { posix } from 'node:path';
import { BuildError } from '../../errors.js';
import { LayeredRoot, joinInRoot, pathComponents, type LayeredEntry } from '../layered-root.js';
import { compileComponent, hasWildcard, unescapeComponent } from './glob.js';
import type { CopySelection, CopySource, ContextFilter } from './types.js';

/** One source entry a source argument selected (after wildcards and symlink following). */
export interface SourceMatch {
  /** The source argument as written. */
  arg: string;
  /** The in-root path as matched, before following a final symlink (its basename names the copy). */
  path: string;
  /** The canonical in-root path the copy reads. */
  resolved: string;
  entry: LayeredEntry;
  /** `--parents`: the path kept below the destination, and the source dirs above the match. */
  keptPath?: string;
  keptParents?: string[];
}

export interface SourceTree {
  root: LayeredRoot;
  kind: CopySource['kind'];
  filter?: ContextFilter;
}

export function openSource(source: CopySource): SourceTree {
  if (source.kind === 'dir') {
    return { root: new LayeredRoot([source.path], { overlayMarkers: false }), kind: 'dir', filter: source.filter };
  }
  return { root: new LayeredRoot(source.lowerDirs), kind: 'layers' };
}

const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

/**
 * Whether an ADD source is fetched over the network rather than read locally: a URL
 * (`http://`, `https://`, `git://`, …) or a git remote (`git@host:repo`), as BuildKit tells them.
 */
export function isRemoteSource(source: string): boolean {
  return REMOTE.test(source);
}

/** Expands every source argument, in order; a missing or escaping source is an error. */
export async function matchSources(tree: SourceTree, selection: CopySelection): Promise<SourceMatch[]> {
  const matches: SourceMatch[] = [];
  for (const arg of selection.sources) {
    if (isRemoteSource(arg)) {
      throw new BuildError('E_COPY_REMOTE_SOURCE', `remote source ${arg} is not a local file operation`, {
        hint: 'remote URLs and git sources are fetched by ADD over the network, not by the file copier',
      });
    }
    const found = selection.parents ? await matchWithParents(tree, arg) : await matchArg(tree, arg);
    // BuildKit: a wildcard that matches nothing copies nothing, if the dir it lists exists.
    if (found.length === 0 && !(await wildcardBaseExists(tree, arg))) throw missingSource(arg, tree);
    matches.push(...found);
  }
  return matches;
}

async function matchArg(tree: SourceTree, arg: string): Promise<SourceMatch[]> {
  const components = normalizeSource(tree, arg);
  const paths = await expand(tree, [], components);
  return resolveMatches(tree, arg, paths);
}

/** `--parents`: `a/./b/*.txt` keeps `b/…` below the destination; without `/./`, the whole path. */
async function matchWithParents(tree: SourceTree, arg: string): Promise<SourceMatch[]> {
  const pivot = arg.indexOf('/./');
  const base = normalizeSource(tree, pivot < 0 ? '/' : arg.slice(0, pivot));
  const rest = pathComponents(pivot < 0 ? arg : arg.slice(pivot + 3));
  const paths = await expand(tree, base, rest);
  const matches = await resolveMatches(tree, arg, paths);
  return matches.map((match) => {
    const kept = pathComponents(match.path).slice(base.length);
    const keptParents = kept.slice(0, -1).map((_, i) => joinInRoot([...base, ...kept.slice(0, i + 1)]));
    return { ...match, keptPath: kept.join('/'), keptParents };
  });
}

/** Follows each path's symlinks; a wildcard's paths that lead nowhere are dropped, not errors. */
async function resolveMatches(tree: SourceTree, arg: string, paths: string[]): Promise<SourceMatch[]> {
  const out: SourceMatch[] = [];
  const wildcard = pathComponents(arg).some(hasWildcard);
  for (const path of paths) {
    const resolved = await tree.root.resolve(path, { onEscape: escapeGuard(tree, arg) });
    const entry = resolved === undefined ? undefined : await tree.root.lookup(resolved);
    if (!entry || resolved === undefined || (await isHidden(tree, resolved))) {
      if (wildcard) continue;
      throw missingSource(arg, tree);
    }
    out.push({ arg, path, resolved, entry });
  }
  return out;
}

async function wildcardBaseExists(tree: SourceTree, arg: string): Promise<boolean> {
  const components = normalizeSource(tree, arg.replace('/./', '/'));
  const first = components.findIndex(hasWildcard);
  if (first < 0) return false;
  // The dir listed for the wildcard must not be reached through a symlink out of the context.
  const base = await tree.root.resolve(joinInRoot(components.slice(0, first).map(unescapeComponent)), {
    onEscape: escapeGuard(tree, arg),
  });
  const entry = base === undefined ? undefined : await tree.root.lookup(base);
  return base !== undefined && entry !== undefined && entry.stats.isDirectory() && !(await isHidden(tree, base));
}

/** Lexically cleaned components; `..` above the root is an error for the build context. */
function normalizeSource(tree: SourceTree, arg: string): string[] {
  const out: string[] = [];
  for (const part of pathComponents(arg)) {
    if (part !== '..') out.push(part);
    else if (out.length > 0) out.pop();
    else if (tree.kind === 'dir') throw outsideContext(arg, 'it climbs above the context with ".."');
  }
  return out;
}

/** Expands wildcard components (and `**`) below `prefix`, returning in-root paths, sorted. */
async function expand(tree: SourceTree, prefix: string[], rest: string[]): Promise<string[]> {
  if (rest.length === 0) return [joinInRoot(prefix)];
  const [head, ...tail] = rest as [string, ...string[]];
  if (!hasWildcard(head)) return expand(tree, [...prefix, unescapeComponent(head)], tail);
  const names = await listVisible(tree, joinInRoot(prefix));
  if (head === '**') {
    const here = await expand(tree, prefix, tail);
    const deeper: string[] = [];
    for (const name of names) {
      const entry = await tree.root.lstat(joinInRoot([...prefix, name]));
      if (entry?.stats.isDirectory()) deeper.push(...(await expand(tree, [...prefix, name], rest)));
    }
    return [...new Set([...here, ...deeper])];
  }
  const matcher = compileComponent(head);
  const out: string[] = [];
  for (const name of names.filter(matcher)) out.push(...(await expand(tree, [...prefix, name], tail)));
  return out;
}

async function listVisible(tree: SourceTree, dir: string): Promise<string[]> {
  const canonical = await tree.root.resolve(dir);
  const entry = canonical === undefined ? undefined : await tree.root.lookup(canonical);
  if (canonical === undefined || !entry?.stats.isDirectory()) return [];
  const visible: string[] = [];
  for (const name of await tree.root.list(canonical)) {
    if (!(await isHidden(tree, posix.join(canonical, name)))) visible.push(name);
  }
  return visible;
}

/**
 * Whether .dockerignore removes this canonical in-root path from the context (it is then
 * invisible); an excluded dir stays visible when an exception may re-include a path below it.
 */
async function isHidden(tree: SourceTree, path: string): Promise<boolean> {
  const rel = pathComponents(path).join('/');
  if (rel === '' || !tree.filter?.isExcluded(rel)) return false;
  if (!tree.filter.mayIncludeBelow?.(rel)) return true;
  return !(await tree.root.lookup(path))?.stats.isDirectory();
}

function escapeGuard(tree: SourceTree, arg: string): ((path: string, via: string) => void) | undefined {
  if (tree.kind !== 'dir') return undefined; // another stage's absolute symlinks are normal
  return (_path, via) => {
    throw outsideContext(arg, `it resolves through ${via}`);
  };
}

function outsideContext(arg: string, why: string): BuildError {
  return new BuildError('E_COPY_OUTSIDE_CONTEXT', `source "${arg}" is outside the build context: ${why}`, {
    hint: 'only files inside the context directory can be copied; move the file into the context',
  });
}

function missingSource(arg: string, tree: SourceTree): BuildError {
  const where = tree.kind === 'dir' ? 'the build context' : 'the source stage or image';
  return new BuildError('E_COPY_SOURCE_MISSING', `source "${arg}" not found in ${where}`, {
    hint:
      tree.kind === 'dir'
        ? 'check the path (relative to the context directory) and that .dockerignore does not exclude it'
        : 'check the path inside the source stage or image',
  });
}
