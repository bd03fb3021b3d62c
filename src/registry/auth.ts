// Registry authentication, as the distribution spec and Docker do it: the registry answers
// 401 with `WWW-Authenticate: Basic realm=…` (send user:password) or `Bearer realm=…,
// service=…,scope=…` (get a token from the realm for the scopes, with the credentials as
// basic auth when there are any, anonymously otherwise). Tokens are cached per scope set.

import { RegistryError } from '../errors.js';
import type { Credentials } from './credentials.js';
import type { Endpoint } from './endpoint.js';
import { errorDetail, readSmall, send, withRetries, type RetryPolicy } from './http.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header (one challenge, as registries send). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const param of match[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3]!;
  }
  return { scheme, params };
}

/** `repository:team/app:pull,push` */
export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

export class Authorizer {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, string>();
  private credentials: Credentials | undefined | null = null; // null: not loaded yet

  private readonly endpoint: Endpoint;
  private readonly loadCredentials: () => Promise<Credentials | undefined>;
  private readonly retry: RetryPolicy;

  constructor(endpoint: Endpoint, loadCredentials: () => Promise<Credentials | undefined>, retry: RetryPolicy) {
    this.endpoint = endpoint;
    this.loadCredentials = loadCredentials;
    this.retry = retry;
  }

  /** Records the challenge of an unauthenticated answer (the ping's, or a 401's). */
  setChallenge(challenge: Challenge | undefined): void {
    if (challenge) this.challenge = challenge;
  }

  get hasChallenge(): boolean {
    return this.challenge !== undefined;
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.getCredentials()) !== undefined;
  }

  /** The Authorization header for these scopes, fetching a token if needed; undefined: go anonymous. */
  async header(scopes: string[], refresh = false): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const credentials = await this.getCredentials();
    if (challenge.scheme === 'basic') {
      return credentials ? `Basic ${basic(credentials)}` : undefined;
    }
    const key = scopes.slice().sort().join(' ');
    if (!refresh && this.tokens.has(key)) return `Bearer ${this.tokens.get(key)}`;
    const token = await this.fetchToken(challenge, scopes, credentials);
    this.tokens.set(key, token);
    return `Bearer ${token}`;
  }

  private async getCredentials(): Promise<Credentials | undefined> {
    if (this.credentials === null) this.credentials = await this.loadCredentials();
    return this.credentials;
  }

  private async fetchToken(challenge: Challenge, scopes: string[], credentials: Credentials | undefined): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError('E_REGISTRY_PROTOCOL', `${this.endpoint.domain} asked for a bearer token without naming a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError('E_REGISTRY_PROTOCOL', `${this.endpoint.domain} named an invalid token realm`);
    }
    const res = await withRetries(this.retry, async () => {
      const response = await send(this.endpoint, tokenRequest(url, challenge, scopes, credentials), this.retry.signal);
      if (response.statusCode! >= 500) {
        response.resume();
        throw new RegistryError('E_REGISTRY_UNAVAILABLE', `the token service of ${this.endpoint.domain} answered ${response.statusCode}`, { status: response.statusCode });
      }
      return response;
    });
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume();
      throw credentials ? credentialsRefused(this.endpoint.domain) : loginRequired(this.endpoint.domain);
    }
    if (res.statusCode !== 200) {
      const detail = await errorDetail(res);
      throw new RegistryError('E_REGISTRY_AUTH', `the token service of ${this.endpoint.domain} answered ${res.statusCode}${detail ? ` (${detail})` : ''}`, { status: res.statusCode });
    }
    const body = JSON.parse((await readSmall(res, 1 << 20, 'token response')).toString('utf8')) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError('E_REGISTRY_PROTOCOL', `the token service of ${this.endpoint.domain} returned no token`);
    return token;
  }
}

/**
 * The token request: GET with the password as basic auth (or anonymous), or, holding an
 * identity token, the OAuth2 refresh-token grant POSTed as a form, as Docker does.
 */
function tokenRequest(realm: URL, challenge: Challenge, scopes: string[], credentials: Credentials | undefined) {
  const service = challenge.params.service;
  if (credentials?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'tsbuild', ...(service ? { service } : {}) });
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const body = Buffer.from(form.toString());
    return { method: 'POST', url: realm, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: () => body };
  }
  const url = new URL(realm);
  if (service) url.searchParams.set('service', service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  return { method: 'GET', url, headers: credentials ? { authorization: `Basic ${basic(credentials)}` } : {} };
}

function basic(credentials: Credentials): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
}

export function credentialsRefused(domain: string): RegistryError {
  return new RegistryError('E_REGISTRY_UNAUTHORIZED', `${domain} refused the stored credentials (wrong user name or password)`, {
    hint: `Log in again: tsbuild login ${domain}`,
    status: 401,
  });
}

export function loginRequired(domain: string): RegistryError {
  return new RegistryError('E_REGISTRY_UNAUTHORIZED', `${domain} requires authentication and no credentials are stored for it`, {
    hint: `Log in first: tsbuild login ${domain}`,
    status: 401,
  });
}

export function accessDenied(domain: string, repository: string, action: string): RegistryError {
  return new RegistryError('E_REGISTRY_DENIED', `${action} access to ${domain}/${repository} was denied`, {
    hint: `The repository may not exist, or your account lacks ${action} permission on it; check the name, or log in as a user who has it (tsbuild login ${domain}).`,
    status: 403,
  });
}
