// Docker image references, normalised as the docker CLI does (distribution/reference):
// `busybox` → `docker.io/library/busybox:latest`, `localhost:5000/a/b:t` keeps its registry,
// `name@sha256:…` pins a digest. Tags are stored under the normalised form.

import { UsageError } from '../errors.js';
import type { Digest } from '../lib/digest.js';

export interface ImageReference {
  /** Registry host, with port when given: `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/busybox`, `a/b`. */
  path: string;
  tag?: string;
  digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** Parses and normalises a reference; throws UsageError naming what is wrong. */
export function parseReference(input: string): ImageReference {
  const fail = (why: string) =>
    new UsageError(`invalid image reference ${JSON.stringify(input)}: ${why}`, {
      hint: 'Use NAME[:TAG][@sha256:DIGEST], e.g. busybox:latest or localhost:5000/team/app:1.0.',
    });
  if (input === '') throw fail('it is empty');
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    const candidate = rest.slice(at + 1);
    if (!DIGEST_RE.test(candidate)) throw fail('the digest must be sha256: and 64 lowercase hex digits');
    digest = candidate as Digest;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw fail(`the tag ${JSON.stringify(tag)} may hold only letters, digits, '_', '.', '-' (at most 128)`);
  }
  if (rest.length > NAME_MAX) throw fail(`the name is longer than ${NAME_MAX} characters`);
  const { domain, path } = splitDomain(rest);
  if (!DOMAIN_RE.test(domain)) throw fail(`${JSON.stringify(domain)} is not a registry host`);
  for (const component of path.split('/')) {
    if (component !== component.toLowerCase()) throw fail('the repository name must be lowercase');
    if (!PATH_COMPONENT_RE.test(component)) throw fail(`${JSON.stringify(component)} is not a valid path component`);
  }
  if (/^[a-f0-9]{64}$/.test(rest)) throw fail('a 64-digit hex string is an image ID, not a name');
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return { domain, path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let domain = isDomain ? first : DEFAULT_DOMAIN;
  let path = isDomain ? name.slice(slash + 1) : name;
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { domain, path };
}

/** `docker.io/library/busybox` */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalised form: `docker.io/library/busybox:latest`, `a/b@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}

/** The short form people type, as `docker images` shows it: `busybox:latest`, `localhost:5000/a/b:t`. */
export function familiarReference(input: string | ImageReference): string {
  const ref = typeof input === 'string' ? parseReference(input) : input;
  let name = repositoryName(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice('library/'.length) : ref.path;
  }
  return `${name}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
