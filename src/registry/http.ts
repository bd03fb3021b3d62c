// One HTTP exchange over node:http/https, streaming both ways, and the retry policy: 5xx,
// 429 and dropped connections are retried with exponential backoff; everything else is the
// caller's to judge. Bodies come from factories so that a retry can send them again. Each
// request takes its own route (endpoint.ts): direct, tunnelled through an HTTPS proxy, or
// sent to an HTTP proxy in absolute form.

import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { urlToHttpOptions } from 'node:url';
import { CancelledError, RegistryError } from '../errors.js';
import { route, type Endpoint } from './endpoint.js';
import { ProxyConnectError, proxyRefused, type Proxy } from './proxy.js';

export type Body = Buffer | Readable;

interface HttpRequest {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  body?: () => Body;
}

export interface RetryPolicy {
  retries: number;
  retryDelayMs: number;
  signal?: AbortSignal;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const TLS_CODE_RE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/;
/** Failures to open a connection at all: through a proxy, the connection was the proxy's. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A failure to exchange at all (no HTTP response): worth retrying. */
export class NetworkError extends Error {
  readonly code: string | undefined;
  /** Set when the proxy itself could not be reached: the registry was never asked. */
  readonly proxy: Proxy | undefined;
  constructor(message: string, code: string | undefined, cause: unknown, proxy?: Proxy) {
    super(message, { cause });
    this.code = code;
    this.proxy = proxy;
  }
}

export function isTlsVerificationError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  return TLS_CODE_RE.test(code);
}

/** Sends one request; resolves when the response head arrives (the body is the caller's). */
export function send(endpoint: Endpoint, req: HttpRequest, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { agent, proxy } = route(endpoint, req.url); // a throw here (an unusable proxy variable) rejects
    // Plain HTTP through a proxy: the proxy is asked, with the whole URL as the request target.
    const absolute = proxy !== undefined && req.url.protocol === 'http:' ? proxy : undefined;
    const body = req.body?.();
    const headers: OutgoingHttpHeaders = { 'user-agent': 'tsbuild', ...req.headers };
    if (Buffer.isBuffer(body)) headers['content-length'] = body.length;
    if (absolute) Object.assign(headers, { host: req.url.host }, absolute.authorization ? { 'proxy-authorization': absolute.authorization } : {});
    const target = absolute ? { host: absolute.host, port: absolute.port, path: req.url.href } : urlToHttpOptions(req.url);
    const request = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = request({ ...target, method: req.method, headers, agent, signal }, (res) => {
      if (absolute && res.statusCode === 407) {
        res.resume();
        return reject(proxyRefused(absolute, req.url.host, 407, res.statusMessage));
      }
      resolve(res);
    });
    outgoing.setTimeout(60_000, () => outgoing.destroy(Object.assign(new Error('no response for 60 s'), { code: 'ETIMEDOUT' })));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (signal?.aborted) return reject(new CancelledError());
      // A tunnel the proxy refused, and a certificate that failed, are final answers.
      if (error instanceof RegistryError || isTlsVerificationError(error)) return reject(error);
      reject(new NetworkError(`${req.method} ${req.url.host}: ${error.code ?? error.message}`, error.code, error, failedProxy(error, proxy)));
    });
    if (body === undefined) outgoing.end();
    else if (Buffer.isBuffer(body)) outgoing.end(body);
    else pipeline(body, outgoing).catch((error: unknown) => outgoing.destroy(error as Error));
  });
}

/** The proxy, when the connection failed before getting past it. */
function failedProxy(error: NodeJS.ErrnoException, proxy: Proxy | undefined): Proxy | undefined {
  if (error instanceof ProxyConnectError) return error.proxy;
  return proxy !== undefined && CONNECT_CODES.has(error.code ?? '') ? proxy : undefined;
}

function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export function isRetriable(error: unknown): boolean {
  // EPROTO and the like are a server speaking something else, not a dropped connection.
  if (error instanceof NetworkError) return error.code === undefined || NETWORK_CODES.has(error.code);
  if (error instanceof RegistryError) {
    // A connection failure already reported as such still merits another attempt one level up.
    return error.code === 'E_REGISTRY_UNREACHABLE' || (error.status !== undefined && isRetriableStatus(error.status));
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && NETWORK_CODES.has(code);
}

/** Runs `attempt` until it succeeds, fails with a non-retriable error, or retries run out. */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      await backOff(policy, error, n);
    }
  }
}

/** After failure number `n` (0-based): rethrows what is not worth retrying, else waits its turn. */
export async function backOff(policy: RetryPolicy, error: unknown, n: number): Promise<void> {
  if (policy.signal?.aborted) throw new CancelledError();
  if (n >= policy.retries || !isRetriable(error)) throw error;
  await sleep(policy.retryDelayMs * 2 ** n, policy.signal);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Reads a small body whole (manifests, errors, tokens); refuses more than `limit` bytes. */
export async function readSmall(res: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? 0);
  if (declared > limit) {
    res.destroy();
    throw new RegistryError('E_REGISTRY_PROTOCOL', `${what} is ${declared} bytes, more than the ${limit} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw new RegistryError('E_REGISTRY_PROTOCOL', `${what} is more than the ${limit} bytes allowed`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The registry's own words from an error body (`{"errors":[{"code","message"}]}`), if any. */
export async function errorDetail(res: IncomingMessage): Promise<string> {
  try {
    const body = await readSmall(res, 64 << 10, 'error body');
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    const first = parsed.errors?.[0];
    return first ? `${first.code ?? 'error'}: ${first.message ?? ''}`.trim() : '';
  } catch {
    return '';
  }
}
