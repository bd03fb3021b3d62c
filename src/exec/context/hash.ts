// The content part of a COPY/ADD cache key: one digest over exactly the entries the copy
// would select (same matcher, same walk, after .dockerignore and --exclude), each with its
// relative path, type, mode, owner (for another stage's files; context files become root's),
// symlink target, hardlink partner and content digest, plus the requested chown and chmod.
// Every field is length-prefixed, so no two different inputs encode alike. Extended
// attributes are left out: reading them costs a process per few thousand files on every
// build, so a change to xattrs alone does not invalidate a cached COPY.

import { createHash, type Hash } from 'node:crypto';
import { readlinkSync, type Stats } from 'node:fs';
import type { Digest } from '../../lib/digest.js';
import { matchSources, openSource } from '../copy/select.js';
import { walkMatch } from '../copy/walk.js';
import type { CopySelection } from '../copy/types.js';
import { StatCache } from './stat-cache.js';

/** Changes whenever the digest below would change for the same files: digests remembered under it are then not reused. */
export const COPY_SOURCES_VERSION = 'tsbuild.copy-sources.v1';

export interface CopyHashSpec extends CopySelection {
  /** Numeric owner, or the `--chown` value as written when names are not resolved yet. */
  chown?: { uid: number; gid: number } | string;
  chmod?: string;
}

/** Length-prefixed fields fed to a sha256. */
class FieldHasher {
  private readonly hash: Hash = createHash('sha256');

  fields(...values: (string | number)[]): void {
    for (const value of values) {
      const bytes = Buffer.from(String(value), 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      this.hash.update(length).update(bytes);
    }
  }

  list(values: readonly string[]): void {
    this.fields(values.length, ...values);
  }

  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * Digest of everything a COPY/ADD would copy. Pass a StatCache (opened once per build and
 * saved after it) so unchanged files are not read again.
 */
export async function hashCopySources(spec: CopyHashSpec, cache?: StatCache): Promise<Digest> {
  const statCache = cache ?? (await StatCache.open());
  const tree = openSource(spec.source);
  const hasher = new FieldHasher();
  hasher.fields(COPY_SOURCES_VERSION, spec.source.kind);
  hasher.list(spec.sources);
  hasher.list(spec.exclude);
  const chown = spec.chown === undefined ? '' : typeof spec.chown === 'string' ? `name:${spec.chown}` : `id:${spec.chown.uid}:${spec.chown.gid}`;
  hasher.fields(spec.parents ? 'parents' : '', chown, spec.chmod ?? '');
  const keepOwners = spec.source.kind === 'layers';
  const matches = await matchSources(tree, spec);
  hasher.fields(matches.length);
  // Hardlinks are kept across the whole copy, as the copier keeps them.
  const firstOfInode = new Map<string, string>();
  for (const [index, match] of matches.entries()) {
    hasher.fields('match', index, match.arg, match.path, match.keptPath ?? '');
    // `--parents` recreates the source dirs above the match with their own modes and owners.
    for (const sourceDir of match.keptParents ?? []) {
      const parent = await tree.root.stat(sourceDir);
      hasher.fields('parent', sourceDir, parent ? (parent.stats.mode & 0o7777).toString(8) : '', parent && keepOwners ? `${parent.stats.uid}:${parent.stats.gid}` : '');
    }
    for await (const item of walkMatch(tree, match, spec.exclude)) {
      const { stats, hostPath } = item.entry;
      const inode = `${stats.dev}:${stats.ino}`;
      const linkOf = stats.isFile() && stats.nlink > 1 ? firstOfInode.get(inode) : undefined;
      if (stats.isFile() && stats.nlink > 1 && linkOf === undefined) firstOfInode.set(inode, `${index}:${item.rel}`);
      hasher.fields(
        'entry',
        item.rel,
        typeLetter(stats),
        (stats.mode & 0o7777).toString(8),
        keepOwners ? `${stats.uid}:${stats.gid}` : '',
        stats.isSymbolicLink() ? readlinkSync(hostPath) : '',
        linkOf ?? '',
        stats.isFile() && linkOf === undefined ? await statCache.digest(hostPath, stats) : '',
        stats.isCharacterDevice() || stats.isBlockDevice() ? String(stats.rdev) : '',
      );
    }
  }
  return hasher.digest();
}

function typeLetter(stats: Stats): string {
  if (stats.isFile()) return 'f';
  if (stats.isDirectory()) return 'd';
  if (stats.isSymbolicLink()) return 'l';
  if (stats.isFIFO()) return 'p';
  if (stats.isCharacterDevice()) return 'c';
  if (stats.isBlockDevice()) return 'b';
  return 's';
}
