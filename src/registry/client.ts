// The OCI distribution API for one registry: ping, manifests, blobs, uploads, mounts. Each
// call authenticates (auth.ts), retries what is worth retrying (http.ts) and turns the
// registry's answers into typed errors that name the registry and repository, never a
// credential. Manifests are verified against their digest here; blob bytes are verified by
// the store while they stream in.

import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import { isDigest, sha256, type Digest } from '../lib/digest.js';
import { MediaType, type Descriptor } from '../layer/oci.js';
import { accessDenied, Authorizer, credentialsRefused, loginRequired, parseChallenge, repositoryScope } from './auth.js';
import { getCredentials } from './credentials.js';
import { closeEndpoint, resolveEndpoint, type Endpoint } from './endpoint.js';
import { errorDetail, isTlsVerificationError, NetworkError, readSmall, send, withRetries, type Body, type RetryPolicy } from './http.js';
import { DEFAULTS, type RegistryOptions } from './options.js';
import { proxyUnreachable } from './proxy.js';

const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest].join(', ');
const MANIFEST_LIMIT = 4 << 20;

interface ApiRequest {
  method: string;
  /** A path under the registry (`/v2/…`) or an absolute URL (upload locations). */
  path: string;
  repository: string;
  action: 'pull' | 'push';
  /** Extra scopes beyond this repository's (a mount's source repository). */
  extraScopes?: string[];
  headers?: OutgoingHttpHeaders;
  body?: () => Body;
  /** No retries of this request alone: it is one step of an upload that restarts as a whole. */
  once?: boolean;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export class RegistryClient {
  readonly domain: string;
  private readonly endpoint: Endpoint;
  private readonly auth: Authorizer;
  private readonly retry: RetryPolicy;
  private base: URL;

  private constructor(endpoint: Endpoint, base: URL, options: RegistryOptions) {
    this.domain = endpoint.domain;
    this.endpoint = endpoint;
    this.base = base;
    this.retry = { retries: options.retries ?? DEFAULTS.retries, retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs, signal: options.signal };
    const { credentials, dockerConfigDir } = options;
    const load = async () => credentials ?? (dockerConfigDir ? getCredentials(dockerConfigDir, endpoint.domain) : undefined);
    this.auth = new Authorizer(endpoint, load, this.retry);
  }

  /** Resolves the endpoint and pings `/v2/`: chooses HTTPS or (where allowed) HTTP, learns the auth challenge. */
  static async connect(domain: string, options: RegistryOptions = {}): Promise<RegistryClient> {
    const endpoint = await resolveEndpoint(domain, options);
    const https = new URL(`https://${endpoint.apiHost}`);
    const client = new RegistryClient(endpoint, https, options);
    try {
      await client.ping();
    } catch (error) {
      // An unreachable proxy says nothing about whether the registry speaks TLS.
      if (!endpoint.allowHttp || !(error instanceof NetworkError) || error.code === 'ECONNREFUSED' || error.proxy) {
        closeEndpoint(endpoint);
        throw client.unreachable(error);
      }
      client.base = new URL(`http://${endpoint.apiHost}`);
      try {
        await client.ping();
      } catch (httpError) {
        closeEndpoint(endpoint);
        throw client.unreachable(httpError);
      }
    }
    return client;
  }

  close(): void {
    closeEndpoint(this.endpoint);
  }

  private async ping(): Promise<void> {
    const res = await withRetries(this.retry, async () => {
      const answer = await this.sendOnce({ method: 'GET', url: new URL('/v2/', this.base) });
      if (answer.statusCode! >= 500) throw await this.unavailable(answer, 'GET /v2/');
      answer.resume();
      return answer;
    });
    if (res.statusCode === 401) this.auth.setChallenge(parseChallenge(res.headers['www-authenticate']));
    else if (res.statusCode !== 200) {
      throw new RegistryError('E_REGISTRY_PROTOCOL', `${this.domain} does not speak the registry API v2 (GET /v2/ answered ${res.statusCode})`, { status: res.statusCode });
    }
  }

  /** Checks that the stored (or given) credentials are accepted: `tsbuild login`. */
  async checkLogin(): Promise<void> {
    if (!this.auth.hasChallenge) return; // an open registry accepts anyone
    if (!(await this.auth.hasCredentials())) throw loginRequired(this.domain);
    const authorization = await this.auth.header([], true);
    const res = await withRetries(this.retry, () => this.sendOnce({ method: 'GET', url: new URL('/v2/', this.base), headers: authorization ? { authorization } : {} }));
    res.resume();
    if (res.statusCode === 401 || res.statusCode === 403) throw credentialsRefused(this.domain);
  }

  private sendOnce(req: { method: string; url: URL; headers?: OutgoingHttpHeaders; body?: () => Body }): Promise<IncomingMessage> {
    return send(this.endpoint, req, this.retry.signal);
  }

  /** A connection-level failure (or a TLS one) as the error the user sees. */
  unreachable(error: unknown): RegistryError {
    if (error instanceof RegistryError) return error;
    if (isTlsVerificationError(error)) {
      return new RegistryError('E_REGISTRY_TLS', `the TLS certificate of ${this.domain} could not be verified (${(error as NodeJS.ErrnoException).code})`, {
        hint: `Trust its CA with --ca-cert FILE or /etc/docker/certs.d/${this.domain}/ca.crt; or, for a test registry only, --insecure-registry ${this.domain}.`,
        cause: error,
      });
    }
    const code = (error as NetworkError).code ?? (error as Error).message;
    if (error instanceof NetworkError && error.proxy) return proxyUnreachable(error.proxy, this.domain, code, error);
    return new RegistryError('E_REGISTRY_UNREACHABLE', `cannot reach the registry ${this.domain} (${code})`, {
      hint: 'Check the host name and port, and that the registry is running.',
      cause: error,
    });
  }

  /**
   * Sends an authenticated request with retries. 401/403 become typed errors, 5xx are retried
   * and then thrown; any other status is the caller's to read.
   */
  async request(req: ApiRequest): Promise<IncomingMessage> {
    const scopes = [repositoryScope(req.repository, req.action === 'push' ? 'pull,push' : 'pull'), ...(req.extraScopes ?? [])];
    const url = new URL(req.path, this.base);
    try {
      const policy = req.once ? { ...this.retry, retries: 0 } : this.retry;
      return await withRetries(policy, async () => {
        let res = await this.authorizedSend(req, url, scopes, false);
        if (res.statusCode === 401) {
          res.resume();
          this.auth.setChallenge(parseChallenge(res.headers['www-authenticate']));
          res = await this.authorizedSend(req, url, scopes, true);
        }
        if (res.statusCode === 401 || res.statusCode === 403) throw await this.authFailure(res, req);
        if (res.statusCode! >= 500 || res.statusCode === 429) throw await this.unavailable(res, `${req.method} ${url.pathname}`);
        return res;
      });
    } catch (error) {
      if (error instanceof NetworkError || isTlsVerificationError(error)) throw this.unreachable(error);
      throw error;
    }
  }

  private async authorizedSend(req: ApiRequest, url: URL, scopes: string[], refresh: boolean): Promise<IncomingMessage> {
    const authorization = await this.auth.header(scopes, refresh);
    const headers = { ...req.headers, ...(authorization ? { authorization } : {}) };
    return this.sendOnce({ method: req.method, url, headers, body: req.body });
  }

  private async authFailure(res: IncomingMessage, req: ApiRequest): Promise<RegistryError> {
    const challenge = parseChallenge(res.headers['www-authenticate']);
    res.resume();
    if (res.statusCode === 403 || challenge?.params.error === 'insufficient_scope') return accessDenied(this.domain, req.repository, req.action);
    if (!(await this.auth.hasCredentials())) return loginRequired(this.domain);
    // A bearer token was issued for these credentials, so the 401 is about permission.
    return challenge?.scheme === 'bearer' ? accessDenied(this.domain, req.repository, req.action) : credentialsRefused(this.domain);
  }

  // --- manifests ---------------------------------------------------------------------------

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.request({ method: 'GET', path: `/v2/${repository}/manifests/${reference}`, repository, action: 'pull', headers: { accept: MANIFEST_ACCEPT } });
    if (res.statusCode === 404) {
      const detail = await errorDetail(res);
      throw new RegistryError('E_REGISTRY_NOT_FOUND', `${this.domain}/${repository}:${reference} was not found${detail ? ` (${detail})` : ''}`, {
        hint: 'Check the repository name and tag.',
        status: 404,
      });
    }
    if (res.statusCode !== 200) throw await this.unexpected(res, `GET manifest ${repository}:${reference}`);
    const bytes = await readSmall(res, MANIFEST_LIMIT, `the manifest of ${repository}:${reference}`);
    const digest = sha256(bytes);
    const claimed = isDigest(reference) ? reference : (res.headers['docker-content-digest'] as string | undefined);
    if (claimed !== undefined && claimed !== digest) {
      throw new RegistryError('E_REGISTRY_DIGEST_MISMATCH', `the manifest ${this.domain}/${repository}@${claimed} served by the registry hashes to ${digest}`, {
        hint: 'The registry or a proxy in between altered the content; nothing was stored.',
      });
    }
    const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
    const mediaType = declared ?? (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    return { bytes, mediaType, digest };
  }

  /** PUTs a manifest or index under a tag or its digest; resolves to its digest. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const res = await this.request({
      method: 'PUT',
      path: `/v2/${repository}/manifests/${reference}`,
      repository,
      action: 'push',
      headers: { 'content-type': mediaType },
      body: () => bytes,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await this.unexpected(res, `PUT manifest ${repository}:${reference}`);
    res.resume();
    return sha256(bytes);
  }

  // --- blobs -------------------------------------------------------------------------------

  async hasBlob(repository: string, digest: Digest, action: 'pull' | 'push' = 'pull'): Promise<boolean> {
    const res = await this.request({ method: 'HEAD', path: `/v2/${repository}/blobs/${digest}`, repository, action });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await this.unexpected(res, `HEAD blob ${digest}`);
  }

  /**
   * The blob's bytes from byte `from` on, as a stream; redirects to storage are followed
   * without our credentials. `once`: the caller retries the whole transfer itself.
   */
  async openBlob(repository: string, digest: Digest, options: { from?: number; once?: boolean } = {}): Promise<Readable> {
    const from = options.from ?? 0;
    const headers = from > 0 ? { range: `bytes=${from}-` } : {};
    let res = await this.request({ method: 'GET', path: `/v2/${repository}/blobs/${digest}`, repository, action: 'pull', headers, once: options.once });
    for (let hops = 0; isRedirect(res.statusCode) && hops < 5; hops++) {
      res.resume();
      const location = new URL(res.headers.location ?? '', this.base);
      res = await withRetries(this.retry, () => this.sendOnce({ method: 'GET', url: location, headers }));
    }
    if (res.statusCode === 404) {
      res.resume();
      throw new RegistryError('E_REGISTRY_NOT_FOUND', `blob ${digest} is missing from ${this.domain}/${repository}`, { status: 404 });
    }
    if (res.statusCode === 206 && from > 0) return res;
    if (res.statusCode !== 200) throw await this.unexpected(res, `GET blob ${digest}`);
    return from > 0 ? res.pipe(skipBytes(from)) : res; // a server that ignores Range sends it all
  }

  /** Tries a cross-repository mount; resolves to true when the registry mounted it. */
  async mountBlob(repository: string, digest: Digest, from: string): Promise<boolean> {
    const path = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.request({ method: 'POST', path, repository, action: 'push', extraScopes: [repositoryScope(from, 'pull')] });
    res.resume();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      // The registry started an ordinary upload instead: cancel it so no session lingers.
      const location = res.headers.location;
      if (location) await this.request({ method: 'DELETE', path: location, repository, action: 'push' }).then((r) => r.resume(), () => undefined);
      return false;
    }
    throw await this.unexpected(res, `mount ${digest} from ${from}`);
  }

  /**
   * Uploads a blob: monolithic (POST, PUT with the body) up to `chunkSize`, else chunked
   * (POST, PATCH per chunk with Content-Range, PUT). A failure part-way restarts the upload.
   */
  async uploadBlob(repository: string, blob: Descriptor, open: (start: number, end: number) => Readable, chunkSize: number): Promise<void> {
    await withRetries(this.retry, async () => {
      let location = await this.startUpload(repository);
      if (blob.size > chunkSize) {
        for (let start = 0; start < blob.size; start += chunkSize) {
          const end = Math.min(start + chunkSize, blob.size) - 1;
          const res = await this.request({
            method: 'PATCH',
            path: location,
            repository,
            action: 'push',
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}`, 'content-length': end - start + 1 },
            body: () => open(start, end),
            once: true,
          });
          res.resume();
          if (res.statusCode !== 202) throw await this.unexpected(res, `PATCH upload of ${blob.digest}`);
          location = res.headers.location ?? location;
        }
      }
      const monolithic = blob.size <= chunkSize;
      const res = await this.request({
        method: 'PUT',
        path: withQuery(location, this.base, 'digest', blob.digest),
        repository,
        action: 'push',
        headers: { 'content-type': 'application/octet-stream', 'content-length': monolithic ? blob.size : 0 },
        ...(monolithic ? { body: () => (blob.size === 0 ? Buffer.alloc(0) : open(0, blob.size - 1)) } : {}),
        once: true,
      });
      if (res.statusCode === 400) {
        const detail = await errorDetail(res);
        throw new RegistryError('E_REGISTRY_DIGEST_MISMATCH', `${this.domain} refused blob ${blob.digest}${detail ? ` (${detail})` : ''}`, { status: 400 });
      }
      if (res.statusCode !== 201) throw await this.unexpected(res, `PUT upload of ${blob.digest}`);
      res.resume();
    });
  }

  private async startUpload(repository: string): Promise<string> {
    const res = await this.request({ method: 'POST', path: `/v2/${repository}/blobs/uploads/`, repository, action: 'push', once: true });
    res.resume();
    if (res.statusCode !== 202 || !res.headers.location) throw await this.unexpected(res, 'POST blob upload');
    return res.headers.location;
  }

  /** A 5xx or 429: worth retrying (http.ts retries by status). */
  private async unavailable(res: IncomingMessage, what: string): Promise<RegistryError> {
    const detail = await errorDetail(res);
    return new RegistryError('E_REGISTRY_UNAVAILABLE', `${this.domain} answered ${res.statusCode} to ${what}${detail ? ` (${detail})` : ''}`, {
      status: res.statusCode,
      hint: 'The registry had a problem; try again later.',
    });
  }

  private async unexpected(res: IncomingMessage, what: string): Promise<RegistryError> {
    const detail = await errorDetail(res);
    return new RegistryError('E_REGISTRY_PROTOCOL', `${this.domain} answered ${res.statusCode} to ${what}${detail ? ` (${detail})` : ''}`, { status: res.statusCode });
  }
}

function skipBytes(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const skip = Math.min(left, chunk.length);
      left -= skip;
      callback(null, skip === chunk.length ? undefined : chunk.subarray(skip));
    },
  });
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function withQuery(location: string, base: URL, key: string, value: string): string {
  const url = new URL(location, base);
  url.searchParams.set(key, value);
  return url.toString();
}
