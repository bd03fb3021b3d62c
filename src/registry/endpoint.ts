// From a reference's registry domain to where and how to connect, as Docker decides it:
// HTTPS with the system CAs plus `--ca-cert` files and `/etc/docker/certs.d/HOST:PORT/*.crt`;
// plain HTTP allowed only for loopback hosts and `--insecure-registry` ones (the ping in
// client.ts tries HTTPS first and falls back). Verification is skipped only for hosts named
// by `--insecure-registry`: loopback with TLS is still verified, so a wrong CA shows. Proxies
// (proxy.ts) change only the path to the host, never these rules: a tunnelled connection is
// verified against the same CAs.

import { readdir, readFile } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { RegistryError } from '../errors.js';
import { isCode } from '../lib/lock.js';
import { DEFAULTS, type RegistryOptions } from './options.js';
import { isUsable, proxyConfig, proxyFor, TunnelAgent, type Proxy, type ProxyConfig } from './proxy.js';

export interface Endpoint {
  /** The domain as references name it: `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Where the API lives: `registry-1.docker.io`, `127.0.0.1:5000`. */
  apiHost: string;
  /** Plain HTTP is allowed as a fallback when the host does not speak TLS. */
  allowHttp: boolean;
  httpsAgent: HttpsAgent;
  httpAgent: HttpAgent;
  /** Proxies from the environment, judged per URL: the registry, its token service and blob storage may differ. */
  proxies: ProxyConfig;
  /** HTTPS through the HTTPS proxy, when one is set: the same CAs and verification as httpsAgent. */
  tunnelAgent?: HttpsAgent;
}

/** How one request travels: over which agent, and through which proxy if any. */
export interface Route {
  agent: HttpAgent;
  proxy?: Proxy;
}

const DOCKER_HUB_API = 'registry-1.docker.io';

function isLoopbackHost(domain: string): boolean {
  const host = hostOf(domain);
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon === -1 ? domain : domain.slice(0, colon);
}

function isNamedInsecure(domain: string, options: RegistryOptions): boolean {
  return (options.insecureRegistries ?? []).some((entry) => entry === domain || entry === hostOf(domain));
}

export async function resolveEndpoint(domain: string, options: RegistryOptions): Promise<Endpoint> {
  const insecure = isNamedInsecure(domain, options);
  const extraCas = [
    ...(await Promise.all((options.caCertFiles ?? []).map(readCaFile))),
    ...(await certsDirCas(options.certsDir ?? DEFAULTS.certsDir, domain)),
  ];
  const ca = extraCas.length > 0 ? [...rootCertificates, ...extraCas] : undefined;
  const tls = { keepAlive: true, maxSockets: 16, ca, rejectUnauthorized: !insecure };
  const proxies = proxyConfig(options.proxyEnv);
  return {
    domain,
    apiHost: domain === 'docker.io' ? DOCKER_HUB_API : domain,
    allowHttp: insecure || isLoopbackHost(domain),
    httpsAgent: new HttpsAgent(tls),
    // Plain HTTP through a proxy is ordinary HTTP to the proxy: this agent serves both ways.
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 16 }),
    proxies,
    tunnelAgent: isUsable(proxies.https) ? new TunnelAgent(proxies.https, tls) : undefined,
  };
}

/** The route to `url`; throws when it needs a proxy whose variable is set but unusable. */
export function route(endpoint: Endpoint, url: URL): Route {
  const proxy = proxyFor(endpoint.proxies, url);
  if (url.protocol !== 'https:') return { agent: endpoint.httpAgent, proxy };
  // proxyFor gives an https URL a proxy only when proxies.https is usable, so tunnelAgent exists.
  return proxy ? { agent: endpoint.tunnelAgent!, proxy } : { agent: endpoint.httpsAgent };
}

async function readCaFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new RegistryError('E_REGISTRY_CA', `cannot read the CA certificate file ${path}: ${(error as Error).message}`, {
      hint: 'Pass --ca-cert a PEM file that exists and is readable.',
    });
  }
}

/** Docker reads every `*.crt` in `certs.d/HOST:PORT/` as a CA (client certs are `*.cert`). */
async function certsDirCas(certsDir: string, domain: string): Promise<string[]> {
  const dir = join(certsDir, domain);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return [];
    throw error;
  }
  return Promise.all(names.filter((n) => n.endsWith('.crt')).sort().map((n) => readCaFile(join(dir, n))));
}

export function closeEndpoint(endpoint: Endpoint): void {
  endpoint.httpsAgent.destroy();
  endpoint.httpAgent.destroy();
  endpoint.tunnelAgent?.destroy();
}
