// Git URLs as BuildKit reads them (util/gitutil): `https://host/org/repo.git`, `http://…`,
// `git://…`, `ssh://…` and scp-like `user@host:org/repo.git`, each optionally followed by
// `#REF:SUBDIR`. An http(s) URL names a repository only when its path ends in `.git`; without
// it, it names a file (ADD fetches it as one). Pure: plan checks an ADD's URL with it, the
// engine fetches with what it returns.

import { posix } from 'node:path';
import { ExitStatus, TsbuildError } from '../errors.js';

export interface GitSource {
  /** What git is given: the URL as written, without the fragment. */
  remote: string;
  /** A branch, tag, `refs/…` name or 40-hex commit id; absent: the remote's default branch (HEAD). */
  ref?: string;
  /** The directory inside the repository that is used ('' for the root), without `.` or `..` parts. */
  subdir: string;
  /** The URL as messages and records show it: credentials replaced by `***`. */
  display: string;
}

/** Which commit of which repository a context's files came from (build records, provenance). */
export interface GitOrigin {
  /** The URL as given, credentials redacted. */
  url: string;
  /** The commit id (40 hex). */
  commit: string;
}

/** A URL that is not a usable git source; plan reports it at the instruction's line. */
export class GitUrlError extends TsbuildError {
  constructor(message: string, hint: string) {
    super('E_GIT_URL', message, ExitStatus.usage, { hint });
  }
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
/** scp-like ssh (`git@github.com:org/repo.git`), as BuildKit's sshutil tells it from a path. */
const SCP_LIKE = /^[A-Za-z0-9_.-]+@[A-Za-z0-9.-]+:/;
const FRAGMENT_HINT = 'write the ref and directory after one #: https://host/org/repo.git#v1.2:docs';

/** True when `text` names a git repository (BuildKit's ParseGitRef accepts it). */
export function isGitUrl(text: string): boolean {
  const scheme = SCHEME.exec(text)?.[1]!.toLowerCase();
  if (scheme === 'git' || scheme === 'ssh') return true;
  if (scheme === 'http' || scheme === 'https') return urlPath(text)?.endsWith('.git') ?? false;
  return scheme === undefined && SCP_LIKE.test(text);
}

/** True when ADD would fetch `text` over the network: an http(s) file or a git repository. */
export function isFetchedSource(text: string): boolean {
  return /^https?:\/\//i.test(text) || isGitUrl(text);
}

/** Splits a git URL into what git fetches, the ref and the subdir; throws GitUrlError when it is not one. */
export function parseGitUrl(text: string): GitSource {
  const display = redactUrl(text);
  if (!isGitUrl(text)) {
    throw new GitUrlError(`${display} is not a git URL`, 'use https://host/org/repo.git, git://host/repo, ssh://host/repo or git@host:org/repo.git');
  }
  const hash = text.indexOf('#');
  const remote = hash === -1 ? text : text.slice(0, hash);
  const fragment = hash === -1 ? '' : text.slice(hash + 1);
  checkRemote(remote, display);
  if (fragment.startsWith('#')) throw new GitUrlError(`${display}: the ##key=value form is not supported`, FRAGMENT_HINT);
  const colon = fragment.indexOf(':');
  const ref = colon === -1 ? fragment : fragment.slice(0, colon);
  const subdir = colon === -1 ? '' : fragment.slice(colon + 1);
  if (ref !== '') checkRef(ref, display);
  return { remote, ...(ref === '' ? {} : { ref }), subdir: cleanSubdir(subdir, display), display };
}

/**
 * `text` with the credentials of any URL in it replaced by `***`: all of an http(s) URL's user
 * part (a token is often the user name), and any user part with a password.
 */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@'"]+)@/gi, (whole, scheme: string, user: string) =>
    /^https?:\/\/$/i.test(scheme) || user.includes(':') ? `${scheme}***@` : whole);
}

function urlPath(text: string): string | undefined {
  try {
    return new URL(text).pathname;
  } catch {
    return undefined;
  }
}

function checkRemote(remote: string, display: string): void {
  // git ls-remote, remote add and fetch would take it for an option of theirs.
  if (remote.startsWith('-')) throw new GitUrlError(`${display}: a repository URL that starts with - is not allowed`, 'write user@host:path or a URL with a scheme');
  if (!SCHEME.test(remote)) return;
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    throw new GitUrlError(`${display} is not a valid URL`, 'check the host name and port');
  }
  if (url.hostname === '') throw new GitUrlError(`${display} names no host`, 'write the host after ://');
  if (url.search !== '') {
    throw new GitUrlError(`${display}: query parameters (?ref=, ?branch=, ?subdir=) are not supported`, FRAGMENT_HINT);
  }
}

/** git's own ref name rules, as far as they keep a ref from being read as an option or a range. */
function checkRef(ref: string, display: string): void {
  const bad = ref.startsWith('-') || ref.endsWith('/') || ref.endsWith('.') || ref.endsWith('.lock') || ref.includes('..') || ref.includes('@{') || /[\s~^:?*[\\\x00-\x1f\x7f]/.test(ref);
  if (bad) throw new GitUrlError(`${display}: "${ref}" is not a valid branch, tag or commit`, FRAGMENT_HINT);
}

function cleanSubdir(subdir: string, display: string): string {
  const normal = posix.normalize(subdir === '' ? '.' : subdir);
  if (normal === '..' || normal.startsWith('../')) {
    throw new GitUrlError(`${display}: the directory "${subdir}" climbs out of the repository`, 'name a directory inside the repository after the :');
  }
  return normal === '.' || normal === '/' ? '' : normal.replace(/^\/+/, '').replace(/\/$/, '');
}
