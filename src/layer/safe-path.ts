// Paths of tar entries, resolved inside the extraction root and never outside it. A name is
// cleaned as if rooted (an absolute name is relative to the root; `..` that would climb above
// the root is refused). Parent components are then walked one lstat at a time: a symlink met
// on the way is read and its target resolved against the root, as if chrooted (the approach
// of moby's FollowSymlinkInScope and containerd's fs.RootPath). The final component is never
// followed: callers lstat it and create it with O_NOFOLLOW/O_EXCL.

import { lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerError } from '../errors.js';

const MAX_SYMLINK_HOPS = 255;

/** Root-relative components of an entry name; throws when the name leaves the root. */
export function cleanEntryName(name: string, what = 'tar entry'): string[] {
  if (name.includes('\0')) throw unsafe(`${what} ${JSON.stringify(name)} has a NUL byte in its name`);
  const components: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (components.length === 0) throw unsafe(`${what} ${JSON.stringify(name)} points outside the layer root`);
      components.pop();
      continue;
    }
    components.push(part);
  }
  return components;
}

function unsafe(message: string): LayerError {
  return new LayerError('E_LAYER_UNSAFE_PATH', message, { hint: 'the layer is malformed or hostile; it was not extracted' });
}

export interface ResolveOptions {
  /** Create missing directories (mode 0755) instead of failing. */
  create: boolean;
  /** Called with each directory created. */
  onCreate?: (path: string) => void;
}

/**
 * The host path of the directory `components` names inside `root`, following symlinks as if
 * `root` were `/`. Returns undefined when a component is missing and `create` is false.
 */
export async function resolveDirInRoot(root: string, components: readonly string[], options: ResolveOptions): Promise<string | undefined> {
  const resolved: string[] = [];
  // A stack of components still to walk, next one last.
  const todo = [...components].reverse();
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.pop()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const path = join(root, ...resolved, part);
    const stats = await lstatOrNull(path);
    if (stats?.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw unsafe(`too many levels of symbolic links resolving ${components.join('/')}`);
      const target = await readlink(path);
      if (target.startsWith('/')) resolved.length = 0;
      todo.push(...target.split('/').reverse());
      continue;
    }
    if (stats === null) {
      if (!options.create) return undefined;
      await mkdir(path, { mode: 0o755 });
      options.onCreate?.(path);
    } else if (!stats.isDirectory()) {
      throw new LayerError('E_LAYER_CONFLICT', `${components.join('/')}: ${[...resolved, part].join('/')} is not a directory`, {
        hint: 'the layer puts an entry under a path that is a file',
      });
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

export async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
