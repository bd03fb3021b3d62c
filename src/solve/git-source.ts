// Git sources in a build. Contexts (the build's CONTEXT, `--build-context NAME=<git url>`) are
// checked out once, before planning, into the store's scratch space, and removed after the
// build. `ADD <git url>` is keyed by the commit its ref names now (plus subdir and
// --keep-git-dir, which the step's definition holds): a cache hit fetches nothing, and a miss
// checks out exactly the commit the key names.

import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { checkoutGitCommit, isCommitId, resolveGitRef, type CheckoutOptions, type ResolvedRef } from '../exec/git/checkout.js';
import type { GitEnv } from '../exec/git/cli.js';
import { parseGitUrl, type GitOrigin, type GitSource } from '../lib/git-url.js';
import type { CopyStep } from '../plan/types.js';
import type { EventSink } from '../events.js';
import { treeSize } from '../store/snapshots.js';
import type { ContentStore } from '../store/types.js';

export interface GitCheckout {
  /** The context root: the checkout, or its subdir. */
  dir: string;
  origin: GitOrigin;
  /** Removes the checkout. */
  release(): Promise<void>;
}

/**
 * Checks out a git context into the store's scratch space; the caller releases it after the
 * build. Shown as a transfer `git:<url>` (credentials removed), done with the checkout's size.
 */
export async function checkoutGitContext(store: ContentStore, url: string, options: CheckoutOptions, onEvent?: EventSink): Promise<GitCheckout> {
  const source = parseGitUrl(url);
  const report = (current: number, done: boolean) =>
    onEvent?.({ type: 'transfer', time: Date.now(), id: `git:${source.display}`, label: `fetching ${source.display}`, current, ...(done ? { done } : {}) });
  const scratch = await store.createTempDir('git-context');
  try {
    report(0, false);
    const resolved = await resolveGitRef(source, options);
    const dir = await checkoutGitCommit(source, resolved, join(scratch.path, 'checkout'), options);
    report((await treeSize(dir)).size, true);
    return { dir, origin: { url: source.display, commit: resolved.commit }, release: scratch.release };
  } catch (error) {
    await scratch.release();
    throw error;
  }
}

/**
 * Each ref resolved once per build: an ADD step's key and its checkout name the same commit even
 * if the branch moves meanwhile, and two steps reading one ref agree.
 */
export class GitRefs {
  private readonly resolved = new Map<string, Promise<ResolvedRef>>();
  /** What git may see of the user's environment (its proxies and ssh agent). */
  readonly gitEnv: GitEnv;

  constructor(gitEnv: GitEnv = {}) {
    this.gitEnv = gitEnv;
  }

  resolve(source: GitSource, signal?: AbortSignal): Promise<ResolvedRef> {
    const id = `${source.remote}#${source.ref ?? ''}`;
    let found = this.resolved.get(id);
    if (!found) {
      found = resolveGitRef(source, { signal, gitEnv: this.gitEnv });
      this.resolved.set(id, found);
      // A failure (or a cancelled request) is not remembered: a later build in this process asks again.
      found.catch(() => this.resolved.delete(id));
    }
    return found;
  }
}

/**
 * The content half of an ADD <git url> key: the commit. A full commit id in --checksum is that
 * commit already, so no request is made (a miss then checks that the ref still names it).
 */
export async function gitSourceDigest(refs: GitRefs, step: CopyStep, source: GitSource, signal?: AbortSignal): Promise<string> {
  const pinned = expectedCommit(step, source);
  if (pinned !== undefined && isCommitId(pinned)) return `git-commit:${pinned}`;
  const resolved = await refs.resolve(source, signal);
  checkCommit(step, source, resolved.commit);
  return `git-commit:${resolved.commit}`;
}

/** Checks out the source for ADD into `dir`; returns the dir whose contents ADD copies. */
export async function fetchGitSource(refs: GitRefs, step: CopyStep, source: GitSource, dir: string, signal?: AbortSignal): Promise<string> {
  const resolved = await refs.resolve(source, signal);
  checkCommit(step, source, resolved.commit);
  return checkoutGitCommit(source, resolved, dir, { keepGitDir: step.keepGitDir, signal, gitEnv: refs.gitEnv });
}

/** --checksum of a git source: a commit id, full or abbreviated. */
function expectedCommit(step: CopyStep, source: GitSource): string | undefined {
  if (step.checksum === undefined) return undefined;
  if (step.checksum.startsWith('sha256:')) {
    throw new BuildError('E_ADD_CHECKSUM', `ADD ${source.display}: --checksum=${step.checksum} is a file digest; a git source needs a commit id`, {
      location: step.location,
      hint: 'give the commit the ref should name: --checksum=<40 hex digits>',
    });
  }
  return step.checksum;
}

function checkCommit(step: CopyStep, source: GitSource, commit: string): void {
  const expected = expectedCommit(step, source);
  if (expected === undefined || commit.startsWith(expected)) return;
  throw new BuildError('E_ADD_CHECKSUM', `ADD ${source.display}: checksum mismatch: expected commit ${expected}, got ${commit}`, {
    location: step.location,
    hint: `${source.ref ?? 'HEAD'} names another commit than --checksum; check the ref, or update the checksum if the change is expected`,
  });
}
