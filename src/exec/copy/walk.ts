// The walk of one selected source: the entry itself, then its tree depth first, in bytewise
// name order. The copier and the cache-key hasher both consume it, so a key covers exactly
// what is copied.

import { posix } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { pathComponents, type LayeredEntry } from '../layered-root.js';
import type { SourceMatch, SourceTree } from './select.js';

/** One entry of a match's tree, in walk order: a dir comes before its contents. */
export interface WalkItem {
  /** Path relative to the match ('' for the match itself). */
  rel: string;
  /** Canonical in-root source path. */
  path: string;
  entry: LayeredEntry;
}

/**
 * Walks one match: the match itself, then (for a dir) its contents depth first, names sorted
 * bytewise. Symlinks inside are items, never followed. An entry excluded by .dockerignore or
 * `--exclude` is skipped; an excluded dir that may hold re-included paths is walked and
 * yielded only just before its first included descendant. `--exclude` patterns apply to
 * paths below the match (BuildKit never excludes the match itself), except with
 * `--parents`, where they apply to the kept path, the match included.
 */
export async function* walkMatch(tree: SourceTree, match: SourceMatch, exclude: string[]): AsyncGenerator<WalkItem> {
  const excluder = exclude.length > 0 ? dockerignore.default().add(exclude) : undefined;
  const hasExceptions = exclude.some((pattern) => pattern.trimStart().startsWith('!'));
  const keptPrefix = match.keptPath ?? '';
  const excludedByFlag = (rel: string) => excluder?.ignores(keptPrefix === '' ? rel : rel === '' ? keptPrefix : `${keptPrefix}/${rel}`) ?? false;
  if (match.keptPath !== undefined && excludedByFlag('') && !(match.entry.stats.isDirectory() && hasExceptions)) return;
  const pending: WalkItem[] = [];
  const turns = new EventLoopTurns();
  const self: WalkItem = { rel: '', path: match.resolved, entry: match.entry };
  if (match.keptPath !== undefined && excludedByFlag('')) pending.push(self);
  else yield self;
  if (!match.entry.stats.isDirectory()) return;
  async function* walkDir(dir: string, relDir: string): AsyncGenerator<WalkItem> {
    for (const name of await tree.root.list(dir)) {
      await turns.take();
      const path = posix.join(dir, name);
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const entry = await tree.root.lookup(path);
      if (!entry) continue;
      const item: WalkItem = { rel, path, entry };
      const isDir = entry.stats.isDirectory();
      const contextRel = pathComponents(path).join('/');
      const ignoredByContext = tree.filter?.isExcluded(contextRel) ?? false;
      const ignoredByFlag = excludedByFlag(rel);
      if (ignoredByContext || ignoredByFlag) {
        const contextMayInclude = !ignoredByContext || (tree.filter?.mayIncludeBelow?.(contextRel) ?? false);
        if (isDir && contextMayInclude && (!ignoredByFlag || hasExceptions)) {
          pending.push(item);
          yield* walkDir(path, rel);
          if (pending.at(-1) === item) pending.pop();
        }
        continue;
      }
      yield* pending.splice(0);
      yield item;
      if (isDir) yield* walkDir(path, rel);
    }
  }
  yield* walkDir(match.resolved, '');
}

/**
 * The file operations are synchronous (see layered-root.ts); a long walk gives the event loop
 * a turn every few milliseconds so progress output and child processes' pipes keep flowing.
 */
class EventLoopTurns {
  private last = performance.now();

  async take(): Promise<void> {
    if (performance.now() - this.last < TURN_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

const TURN_MS = 8;
