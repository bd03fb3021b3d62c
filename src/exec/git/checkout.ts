// A git source's files at one commit, as BuildKit's git source makes them: the ref resolved
// with `git ls-remote` (that commit is what a cache key names, so a cache hit fetches nothing),
// then only that commit fetched (`--depth 1`; a full fetch when the server will not hand out a
// commit that is not a ref's tip), checked out with its submodules, and `.git` dropped unless
// it is to be kept.

import { lstat, readdir, realpath, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { BuildError } from '../../errors.js';
import { redactUrl, type GitSource } from '../../lib/git-url.js';
import { GitCommandError, runGit, type GitRunOptions } from './cli.js';

export interface ResolvedRef {
  /** The commit id (40 hex). */
  commit: string;
  /** The ref ls-remote matched (`refs/heads/main`, `HEAD`); absent when the URL named a commit. */
  name?: string;
}

const COMMIT_ID = /^[0-9a-f]{40}$/;

export function isCommitId(text: string): boolean {
  return COMMIT_ID.test(text);
}

/** The commit the source's ref names now; a commit id names itself and needs no request. */
export async function resolveGitRef(source: GitSource, run: GitRunOptions = {}): Promise<ResolvedRef> {
  if (source.ref !== undefined && isCommitId(source.ref)) return { commit: source.ref };
  const ref = source.ref ?? 'HEAD';
  const listing = await remoteGit(source, ['ls-remote', source.remote, ref, `${ref}^{}`], run);
  const found = pickRef(parseLsRemote(listing), ref);
  if (found) return found;
  throw new BuildError('E_GIT_REF_NOT_FOUND', source.ref === undefined
    ? `${source.display} has no default branch (HEAD)`
    : `${source.display}: no branch or tag named "${ref}"`, {
    hint: 'name an existing branch or tag after #, or a commit by its full 40-hex id (git ls-remote URL lists them)',
  });
}

/** `ls-remote` output: ref name → id, peeled tags as `NAME^{}`. */
function parseLsRemote(listing: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const [id, name] = line.split('\t');
    if (id && name && COMMIT_ID.test(id)) refs.set(name, id);
  }
  return refs;
}

/** The ref git itself would take `ref` for (its rev-parse order), its tag peeled to the commit. */
function pickRef(refs: Map<string, string>, ref: string): ResolvedRef | undefined {
  const candidates = [ref, `refs/${ref}`, `refs/tags/${ref}`, `refs/heads/${ref}`, `refs/remotes/${ref}`, `refs/remotes/${ref}/HEAD`];
  const name = candidates.find((candidate) => refs.has(candidate) && (candidate === 'HEAD' || candidate.startsWith('refs/')));
  if (name === undefined) return undefined;
  return { commit: refs.get(`${name}^{}`) ?? refs.get(name)!, name };
}

export interface CheckoutOptions extends GitRunOptions {
  /** Keep the `.git` dir (ADD --keep-git-dir, BUILDKIT_CONTEXT_KEEP_GIT_DIR). */
  keepGitDir: boolean;
}

/**
 * Checks out `resolved.commit` of the source into `dir` (made here) and returns the path of the
 * source's subdir in it. The checkout is complete or this throws; the caller removes `dir`.
 */
export async function checkoutGitCommit(source: GitSource, resolved: ResolvedRef, dir: string, options: CheckoutOptions): Promise<string> {
  const run: GitRunOptions = { signal: options.signal, gitEnv: options.gitEnv };
  await runGit(['init', '-q', '--template=', dir], run);
  await runGit(['remote', 'add', 'origin', source.remote], { ...run, cwd: dir });
  await fetchCommit(source, resolved, dir, run);
  await runGit(['checkout', '-q', '--detach', resolved.commit], { ...run, cwd: dir });
  const submodules = await hasSubmodules(dir);
  if (submodules) await updateSubmodules(source, dir, run);
  if (options.keepGitDir) await tidyGitDir(source, dir, run);
  else await removeGitDirs(dir, submodules);
  return subdirOf(source, resolved, dir);
}

/** Only the commit, by the ref's name first (every server serves those), then by id, then everything. */
async function fetchCommit(source: GitSource, resolved: ResolvedRef, dir: string, run: GitRunOptions): Promise<void> {
  const shallow = (what: string) => remoteGit(source, ['fetch', '-q', '--depth=1', '--no-tags', 'origin', what], { ...run, cwd: dir });
  if (resolved.name !== undefined) {
    await shallow(resolved.name);
    // The ref may have moved since ls-remote; the key names the commit seen then.
    if (await hasCommit(dir, resolved.commit, run)) return;
  }
  try {
    await shallow(resolved.commit);
    if (await hasCommit(dir, resolved.commit, run)) return;
  } catch (error) {
    if (!(error instanceof BuildError && error.code === 'E_GIT_FETCH')) throw error;
    // A server may refuse a commit that is no ref's tip ("not our ref"): fetch everything instead.
  }
  const unshallow = await lstat(join(dir, '.git', 'shallow')).then(() => ['--unshallow'], () => []);
  await remoteGit(source, ['fetch', '-q', ...unshallow, 'origin', '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], { ...run, cwd: dir });
  if (await hasCommit(dir, resolved.commit, run)) return;
  throw new BuildError('E_GIT_REF_NOT_FOUND', `${source.display}: the repository has no commit ${resolved.commit}`, {
    hint: 'check the commit id after #; a commit must be given by its full 40-hex id',
  });
}

async function hasCommit(dir: string, commit: string, run: GitRunOptions): Promise<boolean> {
  try {
    await runGit(['cat-file', '-e', `${commit}^{commit}`], { ...run, cwd: dir });
    return true;
  } catch (error) {
    if (error instanceof GitCommandError) return false;
    throw error;
  }
}

async function hasSubmodules(dir: string): Promise<boolean> {
  return lstat(join(dir, '.gitmodules')).then((stats) => stats.isFile(), () => false);
}

/** As BuildKit does: every submodule, recursively, shallow when the server allows it. */
async function updateSubmodules(source: GitSource, dir: string, run: GitRunOptions): Promise<void> {
  const update = (depth: string[]) => remoteGit(source, ['submodule', '--quiet', 'update', '--init', '--recursive', ...depth], { ...run, cwd: dir });
  try {
    await update(['--depth=1']);
  } catch (error) {
    if (!(error instanceof BuildError && error.code === 'E_GIT_FETCH')) throw error;
    await update([]);
  }
}

/**
 * A kept `.git` says nothing of this host: the remote without credentials, no FETCH_HEAD, and an
 * index without the checkout's file times and inode numbers (git fills them in on first use).
 */
async function tidyGitDir(source: GitSource, dir: string, run: GitRunOptions): Promise<void> {
  await runGit(['remote', 'set-url', 'origin', redactUrl(source.remote)], { ...run, cwd: dir });
  // A relative submodule URL resolves against the remote, credentials and all.
  await redactConfigUrls(join(dir, '.git', 'config'), run);
  await redactModuleUrls(join(dir, '.git', 'modules'), run);
  await rm(join(dir, '.git', 'FETCH_HEAD'), { force: true });
  // An index written by checkout holds this host's file times and inodes; read-tree writes one
  // from the commit alone, so the same commit gives the same .git, submodules' included.
  await runGit(['read-tree', 'HEAD'], { ...run, cwd: dir });
  await runGit(['submodule', 'foreach', '--quiet', '--recursive', 'git read-tree HEAD'], { ...run, cwd: dir });
}

/** The git dirs of submodules (`modules/NAME`, NAME may hold slashes), theirs nested in them. */
async function redactModuleUrls(at: string, run: GitRunOptions): Promise<void> {
  const entries = await readdir(at, { withFileTypes: true }).catch(() => []);
  const gitDir = entries.some((entry) => entry.name === 'HEAD' && entry.isFile()) && entries.some((entry) => entry.name === 'objects' && entry.isDirectory());
  if (gitDir) {
    await redactConfigUrls(join(at, 'config'), run);
    await redactModuleUrls(join(at, 'modules'), run);
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) await redactModuleUrls(join(at, entry.name), run);
}

/** Every `*.url` of a git config file (remotes, submodules) without credentials. */
async function redactConfigUrls(file: string, run: GitRunOptions): Promise<void> {
  let listing: string;
  try {
    listing = await runGit(['config', '--file', file, '--null', '--get-regexp', '\\.url$'], run);
  } catch (error) {
    if (error instanceof GitCommandError) return; // no such key
    throw error;
  }
  for (const item of listing.split('\0')) {
    const newline = item.indexOf('\n');
    if (newline === -1) continue;
    const [key, value] = [item.slice(0, newline), item.slice(newline + 1)];
    if (redactUrl(value) !== value) await runGit(['config', '--file', file, key, redactUrl(value)], run);
  }
}

/** `.git` dirs, and with submodules the `.git` files that point into them (git tracks no path named `.git`). */
async function removeGitDirs(dir: string, submodules: boolean): Promise<void> {
  await rm(join(dir, '.git'), { recursive: true, force: true });
  if (!submodules) return;
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.name === '.git') await rm(path, { recursive: true, force: true });
      else if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(dir);
}

/** The source's subdir in the checkout: a real directory inside it, not through a symlink out. */
async function subdirOf(source: GitSource, resolved: ResolvedRef, dir: string): Promise<string> {
  if (source.subdir === '') return dir;
  const path = join(dir, source.subdir);
  const real = await realpath(path).catch(() => undefined);
  const root = await realpath(dir);
  const stats = real === undefined ? undefined : await lstat(real);
  if (real !== undefined && stats?.isDirectory() && (real === root || real.startsWith(root + sep))) return real;
  throw new BuildError('E_GIT_SUBDIR_NOT_FOUND', `${source.display}: there is no directory ${source.subdir} at commit ${resolved.commit.slice(0, 12)}`, {
    hint: 'the part after : in #REF:DIR names a directory of the repository',
  });
}

/** A git command that talks to the remote: its failures say whether the remote could be reached. */
async function remoteGit(source: GitSource, args: string[], options: GitRunOptions & { cwd?: string }): Promise<string> {
  try {
    return await runGit(args, options);
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    throw remoteError(source, error);
  }
}

const UNREACHABLE = /could not resolve host|failed to connect|connection refused|connection timed out|unable to access|could not read from remote|repository .* not found|does not appear to be a git repository|authentication failed|permission denied/i;

function remoteError(source: GitSource, error: GitCommandError): BuildError {
  const why = error.message.replace(/^git \S+ failed: /, '');
  if (UNREACHABLE.test(error.stderr)) {
    return new BuildError('E_GIT_UNREACHABLE', `cannot read the git repository ${source.display}: ${why}`, {
      hint: 'check the URL and the network; a private repository needs credentials (an ssh agent for git@host:…, or a token in the URL)',
    });
  }
  return new BuildError('E_GIT_FETCH', `${source.display}: git ${error.command} failed: ${why}`, {
    hint: 'check that the repository is reachable and the ref exists',
  });
}
