// Forward proxies, taken from the environment as curl and dockerd take them. HTTPS_PROXY
// carries https URLs through an HTTP CONNECT tunnel with TLS to the registry inside it (the
// registry's name for SNI and the certificate check, the same CAs as a direct connection), so
// the proxy sees a host name and ciphertext. HTTP_PROXY carries plain-http URLs as
// absolute-form requests. NO_PROXY names hosts reached directly. Each URL is judged on its
// own: a registry, its token service and its blob storage may go different ways. Lower-case
// names win over upper-case ones, as in curl; ALL_PROXY is not read. The environment arrives
// as data (RegistryOptions.proxyEnv); credentials in a proxy URL become Proxy-Authorization
// and never appear in a message.

import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions, type RequestOptions } from 'node:https';
import { BlockList, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { RegistryError } from '../errors.js';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

export interface Proxy {
  /** The variable it came from, as messages name it: `HTTPS_PROXY` or `https_proxy`. */
  variable: string;
  /** Without brackets for IPv6. */
  host: string;
  port: number;
  /** `http://proxy.corp:3128`: how messages show it, never with credentials. */
  display: string;
  /** `Basic …` from the URL's user name and password, when it has them. */
  authorization?: string;
}

/** One NO_PROXY entry: a domain (itself and its subdomains) or addresses, maybe with a port. */
interface Bypass {
  domain?: string;
  addresses?: BlockList;
  port?: number;
}

export interface ProxyConfig {
  /** An error: the variable is set but unusable; it is thrown when a URL would need that proxy. */
  https?: Proxy | RegistryError;
  http?: Proxy | RegistryError;
  noProxy: Bypass[] | '*';
}

/** No answer to CONNECT in this long: the same patience as for a registry's answer. */
const CONNECT_TIMEOUT_MS = 60_000;

export function proxyConfig(env: ProxyEnv = {}): ProxyConfig {
  return {
    https: proxyFrom(env, 'https_proxy'),
    http: proxyFrom(env, 'http_proxy'),
    noProxy: parseNoProxy(setting(env, 'no_proxy')?.value ?? ''),
  };
}

/** The lower-case variable when set, else the upper-case one (curl's order); empty counts as unset. */
function setting(env: ProxyEnv, lower: string): { variable: string; value: string } | undefined {
  for (const variable of [lower, lower.toUpperCase()]) {
    const value = env[variable]?.trim();
    if (value) return { variable, value };
  }
  return undefined;
}

function proxyFrom(env: ProxyEnv, lower: string): Proxy | RegistryError | undefined {
  const found = setting(env, lower);
  return found && parseProxy(found.variable, found.value);
}

export function parseProxy(variable: string, value: string): Proxy | RegistryError {
  // `proxy:3128` without a scheme means http://, as curl and Go read it.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return malformedProxy(variable, value, 'it is not a URL');
  }
  if (url.protocol !== 'http:') return malformedProxy(variable, value, `tsbuild talks to proxies over http:// only, not ${url.protocol}//`);
  if (url.hostname === '') return malformedProxy(variable, value, 'it names no host');
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    try {
      authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    } catch {
      return malformedProxy(variable, value, 'its user name or password is not properly percent-encoded');
    }
  }
  const proxy: Proxy = { variable, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80), display: `http://${url.host}` };
  // Not enumerable: util.inspect and JSON.stringify of an error that holds this proxy show no credential.
  if (authorization) Object.defineProperty(proxy, 'authorization', { value: authorization, enumerable: false });
  return proxy;
}

function malformedProxy(variable: string, value: string, why: string): RegistryError {
  return new RegistryError('E_REGISTRY_PROXY', `${variable}=${JSON.stringify(redacted(value))} is not a usable proxy: ${why}`, {
    hint: `Set ${variable} to http://HOST:PORT (or http://USER:PASSWORD@HOST:PORT, special characters percent-encoded), or unset it.`,
  });
}

/** A proxy setting as messages may show it: whatever precedes the last `@` may hold a password. */
function redacted(value: string): string {
  const at = value.lastIndexOf('@');
  if (at === -1) return value;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? '';
  return `${scheme}***@${value.slice(at + 1)}`;
}

// --- NO_PROXY ------------------------------------------------------------------------------

/**
 * Comma-separated, case-insensitive: `*` (everything), host names matching themselves and
 * their subdomains (a leading `.` or `*.` changes nothing, as in curl), IP addresses and CIDR
 * blocks, each optionally with `:PORT`. Loopback is not special: curl does not bypass it either.
 */
export function parseNoProxy(value: string): Bypass[] | '*' {
  const bypasses: Bypass[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '*') return '*';
    const bypass = entry === '' ? undefined : parseBypass(entry);
    if (bypass) bypasses.push(bypass);
  }
  return bypasses;
}

function parseBypass(entry: string): Bypass | undefined {
  const { host, port } = splitPort(entry);
  const addresses = addressBlock(host);
  if (addresses) return { addresses, port };
  const domain = host.replace(/^\*?\./, '').replace(/\.$/, '');
  return domain === '' ? undefined : { domain, port };
}

/** `host:port` and `[v6]:port`; a bare IPv6 address has colons but no port. */
function splitPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const hostPort = /^([^:]+):(\d+)$/.exec(entry);
  if (hostPort) return { host: hostPort[1]!, port: Number(hostPort[2]) };
  return { host: entry };
}

/** `10.1.2.3`, `10.0.0.0/8`, `fd00::/8` as a BlockList; undefined for anything else. */
function addressBlock(host: string): BlockList | undefined {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(host);
  const family = match ? isIP(match[1]!) : 0;
  if (!match || family === 0) return undefined;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const block = new BlockList();
  try {
    if (match[2] === undefined) block.addAddress(match[1]!, type);
    else block.addSubnet(match[1]!, Number(match[2]), type);
  } catch {
    return undefined; // a prefix too long for the family: not an entry that can match
  }
  return block;
}

export function bypassesProxy(noProxy: Bypass[] | '*', url: URL): boolean {
  if (noProxy === '*') return true;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const family = isIP(host);
  return noProxy.some((bypass) => {
    if (bypass.port !== undefined && bypass.port !== port) return false;
    // Addresses match addresses and names match names: `0.1` is no suffix of `10.0.0.1`.
    if (bypass.addresses) return family !== 0 && bypass.addresses.check(host, family === 6 ? 'ipv6' : 'ipv4');
    return family === 0 && (host === bypass.domain || host.endsWith(`.${bypass.domain}`));
  });
}

/** The proxy `url` goes through, or undefined to connect directly; throws for a set but unusable variable. */
export function proxyFor(config: ProxyConfig, url: URL): Proxy | undefined {
  const proxy = url.protocol === 'https:' ? config.https : config.http;
  if (proxy === undefined || bypassesProxy(config.noProxy, url)) return undefined;
  if (proxy instanceof RegistryError) throw proxy;
  return proxy;
}

export function isUsable(proxy: Proxy | RegistryError | undefined): proxy is Proxy {
  return proxy !== undefined && !(proxy instanceof RegistryError);
}

// --- the tunnel ----------------------------------------------------------------------------

/** A failure to get through the proxy at all: nothing reached the registry. */
export class ProxyConnectError extends Error {
  readonly code: string | undefined;
  readonly proxy: Proxy;
  constructor(proxy: Proxy, cause: NodeJS.ErrnoException) {
    super(`cannot connect through the proxy ${proxy.display}: ${cause.code ?? cause.message}`, { cause });
    this.code = cause.code;
    this.proxy = proxy;
  }
}

/** Asks `proxy` for a tunnel to `host:port`; resolves to the raw socket to the far end. */
export function openTunnel(proxy: Proxy, host: string, port: number): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers = { host: authority, ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: authority, headers, agent: false });
    req.setTimeout(CONNECT_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no answer to CONNECT for ${CONNECT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.once('connect', (res, socket, head) => {
      req.setTimeout(0);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        return reject(proxyRefused(proxy, authority, status, res.statusMessage));
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', (error: NodeJS.ErrnoException) => reject(new ProxyConnectError(proxy, error)));
    req.end();
  });
}

/**
 * An https agent whose connections are CONNECT tunnels through one proxy, with TLS to the
 * registry inside. Node hands createConnection the options of a direct connection (host,
 * servername, ca, rejectUnauthorized), so SNI and the certificate check are the registry's.
 */
export class TunnelAgent extends HttpsAgent {
  private readonly proxy: Proxy;

  constructor(proxy: Proxy, options: AgentOptions) {
    super(options);
    this.proxy = proxy;
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    openTunnel(this.proxy, options.host ?? 'localhost', Number(options.port ?? 443)).then(
      (socket) => callback!(null, tlsConnect({ ...options, socket } as ConnectionOptions)),
      (error: Error) => callback!(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

// --- errors --------------------------------------------------------------------------------

/** The proxy answered CONNECT, or a request it forwards, with a refusal of its own. */
export function proxyRefused(proxy: Proxy, target: string, status: number, reason: string | undefined): RegistryError {
  const answered = `${status}${reason ? ` ${reason}` : ''}`;
  const which = `the proxy ${proxy.display} (${proxy.variable})`;
  if (status === 407) {
    return new RegistryError('E_REGISTRY_PROXY', `${which} requires authentication and ${proxy.authorization ? 'refused the user name and password given' : 'none was given'} (${answered})`, {
      status,
      hint: proxy.authorization
        ? `Check the user name and password in ${proxy.variable}.`
        : `Put them in the proxy URL: ${proxy.variable}=http://USER:PASSWORD@${proxy.display.slice('http://'.length)} (special characters percent-encoded).`,
    });
  }
  if (status >= 500) {
    return new RegistryError('E_REGISTRY_PROXY', `${which} could not connect to ${target} (${answered})`, {
      status, // retried, as a registry's 5xx is
      hint: `Check the registry's host and port, and that it is running; or try again later.`,
    });
  }
  return new RegistryError('E_REGISTRY_PROXY', `${which} refused to connect to ${target} (${answered})`, {
    status,
    hint: `The proxy does not allow ${target}: ask its operator, or, if the registry is reachable without it, name it in NO_PROXY.`,
  });
}

export function proxyUnreachable(proxy: Proxy, registry: string, code: string, cause: unknown): RegistryError {
  return new RegistryError('E_REGISTRY_UNREACHABLE', `cannot reach the proxy ${proxy.display} (${proxy.variable}) on the way to ${registry} (${code})`, {
    hint: `Check that the proxy is running and that ${proxy.variable} names its host and port; or, to reach ${registry} directly, name it in NO_PROXY.`,
    cause,
  });
}
