// COPY/ADD as file operations, with BuildKit's semantics (its fsutil copier, called with
// CopyDirContents, FollowSymlinks on the source, CreateDestPath and AllowWildcard): the
// sources are read from the context or another root and written into a fresh upper dir.

import { posix } from 'node:path';
import { BuildError } from '../../errors.js';
import { isArchiveFile } from './archive.js';
import { parseChmod, type ModeChange } from './chmod.js';
import { matchSources, openSource, type SourceMatch, type SourceTree } from './select.js';
import { walkMatch, type WalkItem } from './walk.js';
import { TargetTree, type Meta } from './target.js';
import type { CopyRequest, CopyResult } from './types.js';

/** Dirs the copy creates on the way to the destination: 0755, owned by the `--chown` user or root. */
const CREATED_DIR_MODE = 0o755;

export async function copyIntoLayer(request: CopyRequest): Promise<CopyResult> {
  // Joined under `/`, never resolved against this process's cwd.
  const destAbs = posix.join('/', request.dest.startsWith('/') ? '' : request.workdir, request.dest);
  const intoDir = request.dest === '' || request.dest === '.' || request.dest.endsWith('/') || request.parents;
  if (request.sources.length > 1 && !intoDir) {
    throw new BuildError(
      'E_COPY_DEST_NOT_DIR',
      `when copying more than one source, the destination must be a directory and end with a /: ${request.dest}`,
      { hint: `write the destination as "${request.dest}/"` },
    );
  }
  const modeChange = request.chmod === undefined ? undefined : parseChmod(request.chmod);
  const tree = openSource(request.source);
  const matches = await matchSources(tree, request);
  // BuildKit: wildcards that match nothing copy nothing, and do not even make the destination.
  if (matches.length === 0) return { written: 0, bytes: 0 };
  const target = new TargetTree(request.link ? [] : request.lowerDirs, request.upperDir, request.reuseFrom);
  const createdDir: Meta = { mode: CREATED_DIR_MODE, uid: request.chown?.uid ?? 0, gid: request.chown?.gid ?? 0 };
  await target.mkdirAll(await target.resolve(intoDir ? destAbs : posix.dirname(destAbs)), createdDir);
  const run: CopyRun = {
    request,
    tree,
    target,
    createdDir,
    dest: await target.resolve(destAbs),
    metaFor: (item) => entryMeta(tree, item, request.chown, modeChange),
  };
  for (const match of matches) await copyMatch(run, match);
  await target.copyXattrs();
  return { written: target.written, bytes: target.bytes };
}

/** What every match of one copy shares. */
interface CopyRun {
  request: CopyRequest;
  tree: SourceTree;
  target: TargetTree;
  /** The metadata of dirs made on the way to a destination. */
  createdDir: Meta;
  /** The destination, resolved inside the target root. */
  dest: string;
  metaFor: (item: WalkItem) => Meta;
}

async function copyMatch(run: CopyRun, match: SourceMatch): Promise<void> {
  const { request, target, createdDir, dest, metaFor } = run;
  target.startMatch();
  if (request.unpack && match.entry.stats.isFile() && (await isArchiveFile(match.entry.hostPath))) {
    // BuildKit's ADD: an archive is extracted into the destination itself, made as a dir.
    await target.mkdirAll(dest, createdDir);
    await target.writeExternally(dest, (hostDir) => request.unpack!(match.entry.hostPath, hostDir));
    return;
  }
  const matchDest = request.parents
    ? await prepareKeptParents(target, run.tree, match, dest, metaFor)
    : await prepareMatchDest(target, match, dest, createdDir);
  for await (const item of walkMatch(run.tree, match, request.exclude)) {
    const out = item.rel === '' ? matchDest : posix.join(matchDest, item.rel);
    if (!item.entry.stats.isDirectory()) await target.writeLeaf(out, item.entry, metaFor(item));
    // The destination of a dir's contents keeps its own metadata; dirs below take the source's.
    else if (item.rel === '' && !request.parents) await target.mkdirAll(out, createdDir);
    else await target.copyDir(out, metaFor(item), item.entry.hostPath);
  }
}

/**
 * Where one match lands, as BuildKit's prepareTargetDir decides: a non-dir into an existing
 * dir goes inside it under its own name; a dir's contents go into the destination itself.
 */
async function prepareMatchDest(target: TargetTree, match: SourceMatch, dest: string, createdDir: Meta): Promise<string> {
  const srcIsDir = match.entry.stats.isDirectory();
  const existing = await target.entry(dest);
  const matchDest = !srcIsDir && existing?.stats.isDirectory() ? posix.join(dest, posix.basename(match.path)) : dest;
  await target.mkdirAll(srcIsDir && !existing ? matchDest : posix.dirname(matchDest), createdDir);
  return matchDest;
}

/** `--parents`: the source dirs above the match are recreated below the destination. */
async function prepareKeptParents(
  target: TargetTree,
  tree: SourceTree,
  match: SourceMatch,
  dest: string,
  metaFor: (item: WalkItem) => Meta,
): Promise<string> {
  const kept = match.keptPath ?? '';
  const keptNames = kept.split('/').filter(Boolean);
  const parents = match.keptParents ?? [];
  for (const [i, sourceDir] of parents.entries()) {
    const entry = await tree.root.stat(sourceDir);
    if (!entry) continue;
    const rel = keptNames.slice(0, i + 1).join('/');
    await target.ensureDir(posix.join(dest, rel), metaFor({ rel, path: sourceDir, entry }), entry.hostPath);
  }
  return posix.join(dest, kept);
}

function entryMeta(
  tree: SourceTree,
  item: WalkItem,
  chown: CopyRequest['chown'],
  modeChange: ModeChange | undefined,
): Meta {
  const { stats } = item.entry;
  const mode = stats.mode & 0o7777;
  // Context files arrive as root's, as BuildKit's local source sends them; another stage's keep their owner.
  const owner = chown ?? (tree.kind === 'dir' ? { uid: 0, gid: 0 } : { uid: stats.uid, gid: stats.gid });
  const changed = modeChange && !stats.isSymbolicLink() ? modeChange(mode, stats.isDirectory()) : mode;
  return { mode: changed, uid: owner.uid, gid: owner.gid };
}
