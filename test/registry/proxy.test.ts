// Registries behind a forward proxy, as HTTPS_PROXY, HTTP_PROXY and NO_PROXY ask, against
// the real registries of test/helpers/registry.ts. The proxy is a small one written here on
// node:http: CONNECT is answered by piping sockets, absolute-form requests are forwarded, and
// it records what went through it. Each case checks the route taken (tunnel, absolute form,
// or nothing through the proxy), that TLS is still checked end to end, and that failures name
// the proxy and the fix; no proxy password appears in anything tsbuild says.

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { pullImage, pushImage, type RegistryOptions } from '../../src/registry/index.js';
import { bypassesProxy, parseNoProxy, proxyConfig, proxyFor } from '../../src/registry/proxy.js';
import { Store, load } from '../../src/store/index.js';
import { renderError } from '../../src/ui/render-error.js';
import { BUSYBOX_REFERENCE, busyboxImageLayout } from '../helpers/busybox-image.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { writeTree } from '../helpers/testdir.js';

const ALICE = 'alice-registry-pw';
const PROXY_USER = 'squid';
/** Has characters a URL must percent-encode, so the decoding is exercised too. */
const PROXY_PASSWORD = 'pr0xy@s3cret:/pw';
const ENCODED_PASSWORD = encodeURIComponent(PROXY_PASSWORD);
const WRONG_PASSWORD = 'wr0ng-pr0xy-pw';
const SECRETS = [PROXY_PASSWORD, ENCODED_PASSWORD, WRONG_PASSWORD, Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')];

let tlsRegistry: TestRegistry;
let plainRegistry: TestRegistry;
let tokenRegistry: TestRegistry;
let scratch: string;
let source: Store;
let dockerConfigDir: string;
let otherCa: string;
/** Everything tsbuild said in this file: errors (rendered and inspected), events, CLI output. */
const said: string[] = [];
const proxies: TestProxy[] = [];

// --- the test proxy ------------------------------------------------------------------------

interface TestProxy {
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** CONNECT targets, in order. */
  connects: string[];
  /** Absolute-form requests: `GET http://…`. */
  requests: string[];
  /** Whether the first bytes through each tunnel (a TLS ClientHello) named this host (SNI). */
  helloNames(host: string): boolean[];
}

interface ProxyOptions {
  /** `user:password` the proxy demands (407 otherwise). */
  credentials?: string;
  /** Answer every CONNECT with this status instead of tunnelling. */
  refuse?: number;
}

async function startProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const connects: string[] = [];
  const requests: string[] = [];
  const hellos: Buffer[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const expected = options.credentials && `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  const authorized = (req: IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;

  const server: Server = createServer((req, res) => {
    if (!authorized(req)) return void res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"' }).end();
    if (!/^https?:\/\//.test(req.url ?? '')) return void res.writeHead(400).end('absolute-form requests only');
    requests.push(`${req.method} ${req.url}`);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = request(req.url!, { method: req.method, headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  });
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (!authorized(req)) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
    if (options.refuse) return void client.end(`HTTP/1.1 ${options.refuse} Not Allowed Here\r\nContent-Length: 0\r\n\r\n`);
    connects.push(req.url!);
    const colon = req.url!.lastIndexOf(':');
    const upstream = connect({ host: req.url!.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(req.url!.slice(colon + 1)), autoSelectFamily: true }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.once('data', (hello: Buffer) => hellos.push(hello));
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: TestProxy & { close(): Promise<void> } = {
    port,
    url: `http://127.0.0.1:${port}`,
    connects,
    requests,
    helloNames: (host) => hellos.map((hello) => hello.includes(Buffer.from(host))),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  proxies.push(proxy);
  return proxy;
}

/** The proxy URL with the test credentials in it, percent-encoded as a URL needs. */
function withCredentials(proxy: TestProxy, password = PROXY_PASSWORD): string {
  return `http://${PROXY_USER}:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;
}

// --- helpers -------------------------------------------------------------------------------

/** Runs `promise`, expecting a failure; records it so the secret scan covers it. */
async function failure(promise: Promise<unknown>): Promise<Error & { code: string; hint?: string; status?: number }> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error & { code: string; hint?: string; status?: number },
  );
  said.push(String(error), JSON.stringify(error), inspect(error, { depth: 10 }), error.hint ?? '', renderError(error, { color: false, debug: true }));
  return error;
}

let stores = 0;
async function freshStore(): Promise<Store> {
  return Store.open(join(scratch, `store-${stores++}`));
}

const events: BuildEvent[] = [];
/** Options for the TLS registry: its CA, alice's login, fast retries, and this environment. */
function tls(proxyEnv: Record<string, string>, extra: RegistryOptions = {}): RegistryOptions {
  return { caCertFiles: [tlsRegistry.caCert!], dockerConfigDir, retryDelayMs: 10, proxyEnv, onEvent: (e) => events.push(e), ...extra };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsbuild-proxy-test-'));
  [tlsRegistry, plainRegistry, tokenRegistry] = await Promise.all([
    startRegistry({ tls: true, htpasswd: { alice: ALICE } }),
    startRegistry(),
    startRegistry({ token: { reader: { password: 'reader-token-pw', actions: ['pull', 'push'] } } }),
  ]);
  dockerConfigDir = join(scratch, 'docker');
  await mkdir(dockerConfigDir, { recursive: true });
  const auth = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') });
  await writeFile(
    join(dockerConfigDir, 'config.json'),
    JSON.stringify({
      auths: {
        [tlsRegistry.host]: auth('alice', ALICE),
        [`localhost:${tlsRegistry.port}`]: auth('alice', ALICE),
        [tokenRegistry.host]: auth('reader', 'reader-token-pw'),
      },
    }),
  );
  otherCa = join(scratch, 'other-ca.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(scratch, 'other-ca.key'), '-out', otherCa, '-days', '2', '-subj', '/CN=not the registry CA'], { stdio: 'pipe' });
  source = await Store.open(join(scratch, 'source'));
  await load(source, await busyboxImageLayout());
  // Seeded directly: the cases below pull through proxies what is known to be there.
  await pushImage(source, BUSYBOX_REFERENCE, `${tlsRegistry.host}/proxy/busybox:1`, { caCertFiles: [tlsRegistry.caCert!], dockerConfigDir });
  await pushImage(source, BUSYBOX_REFERENCE, `${plainRegistry.host}/proxy/busybox:1`, {});
  await pushImage(source, BUSYBOX_REFERENCE, `${tokenRegistry.host}/proxy/busybox:1`, { dockerConfigDir });
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => (proxy as TestProxy & { close(): Promise<void> }).close()));
});

afterAll(async () => {
  await source?.close();
  await Promise.all([tlsRegistry?.stop(), plainRegistry?.stop(), tokenRegistry?.stop()]);
  await rm(scratch, { recursive: true, force: true });
  const everything = [...said, JSON.stringify(events)].join('\n');
  for (const secret of SECRETS) expect(everything).not.toContain(secret);
});

// --- the environment, read as curl reads it ------------------------------------------------

describe('proxy settings from the environment', () => {
  const url = (text: string) => new URL(text);

  it('takes HTTPS_PROXY for https URLs and HTTP_PROXY for http ones, lower-case first', () => {
    const config = proxyConfig({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'plain:8080' });
    expect(proxyFor(config, url('https://r.example.com/v2/'))).toMatchObject({ variable: 'https_proxy', host: 'lower', port: 3128, display: 'http://lower:3128' });
    // No scheme means http://, as curl and Go read it; no port means 80.
    expect(proxyFor(config, url('http://r.example.com/v2/'))).toMatchObject({ variable: 'HTTP_PROXY', host: 'plain', port: 8080 });
    expect(proxyFor(proxyConfig({ https_proxy: '', HTTPS_PROXY: 'http://p' }), url('https://r/'))).toMatchObject({ variable: 'HTTPS_PROXY', port: 80 });
    expect(proxyFor(proxyConfig({ HTTP_PROXY: 'http://p:1' }), url('https://r/'))).toBeUndefined();
    expect(proxyFor(proxyConfig({ ALL_PROXY: 'http://p:1' }), url('https://r/'))).toBeUndefined();
    expect(proxyFor(proxyConfig(undefined), url('https://r/'))).toBeUndefined();
  });

  it('keeps the credentials out of sight: not enumerable, not in the display form', () => {
    const proxy = proxyFor(proxyConfig({ HTTPS_PROXY: `http://${PROXY_USER}:${ENCODED_PASSWORD}@[::1]:3128` }), url('https://r/'))!;
    expect(proxy.authorization).toBe(`Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`);
    expect(proxy).toMatchObject({ host: '::1', port: 3128, display: 'http://[::1]:3128' });
    expect(inspect(proxy) + JSON.stringify(proxy)).not.toContain(proxy.authorization);
  });

  it('NO_PROXY: domain suffixes, a leading dot, IPs, CIDR, host:port, * and any case', () => {
    const bypassed = (noProxy: string, target: string) => bypassesProxy(parseNoProxy(noProxy), url(target));
    expect(bypassed('example.com', 'https://registry.example.com/')).toBe(true);
    expect(bypassed('.example.com', 'https://registry.example.com/')).toBe(true);
    expect(bypassed('.example.com', 'https://example.com/')).toBe(true);
    expect(bypassed('EXAMPLE.com', 'https://Registry.Example.COM/')).toBe(true);
    expect(bypassed('example.com', 'https://badexample.com/')).toBe(false);
    expect(bypassed('example.com.', 'https://a.example.com./')).toBe(true);
    expect(bypassed(' other.org , example.com ', 'https://example.com/')).toBe(true);
    expect(bypassed('10.1.2.3', 'http://10.1.2.3:5000/')).toBe(true);
    expect(bypassed('0.0.1', 'http://10.0.0.1/')).toBe(false); // addresses are not suffixes
    expect(bypassed('10.0.0.0/8', 'https://10.200.3.4/')).toBe(true);
    expect(bypassed('10.0.0.0/8', 'https://11.0.0.1/')).toBe(false);
    expect(bypassed('::1', 'https://[::1]:5000/')).toBe(true);
    expect(bypassed('[::1]:5000', 'https://[::1]:5000/')).toBe(true);
    expect(bypassed('example.com:5000', 'https://r.example.com:5000/')).toBe(true);
    expect(bypassed('example.com:5000', 'https://r.example.com/')).toBe(false);
    expect(bypassed('example.com:443', 'https://r.example.com/')).toBe(true); // the scheme's port
    expect(bypassed('*', 'https://anything/')).toBe(true);
    expect(bypassed('', 'https://example.com/')).toBe(false);
    // Loopback is not special, as in curl: a test registry on 127.0.0.1 goes through the proxy.
    expect(bypassed('localhost', 'http://127.0.0.1:5000/')).toBe(false);
    expect(proxyFor(proxyConfig({ HTTPS_PROXY: 'http://p:1', no_proxy: 'example.com', NO_PROXY: '*' }), url('https://other.org/'))).toBeDefined();
  });

  it('a malformed proxy variable is an error naming it, without its password, raised only when needed', () => {
    const config = proxyConfig({ HTTPS_PROXY: `http://${PROXY_USER}:${WRONG_PASSWORD}@proxy:99999`, NO_PROXY: 'direct.example.com' });
    expect(proxyFor(config, url('https://direct.example.com/'))).toBeUndefined();
    let thrown: (Error & { code?: string; hint?: string }) | undefined;
    try {
      proxyFor(config, url('https://registry.example.com/'));
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown).toMatchObject({ code: 'E_REGISTRY_PROXY', message: 'HTTPS_PROXY="http://***@proxy:99999" is not a usable proxy: it is not a URL' });
    expect(thrown!.hint).toContain('http://HOST:PORT');
    said.push(inspect(thrown));
    expect(() => proxyFor(proxyConfig({ https_proxy: 'socks5://proxy:1080' }), url('https://r/'))).toThrow('https_proxy="socks5://proxy:1080" is not a usable proxy: tsbuild talks to proxies over http:// only, not socks5://');
  });
});

// --- through a real proxy to real registries -----------------------------------------------

describe('HTTPS registry through HTTPS_PROXY', () => {
  it('pulls and pushes through a CONNECT tunnel, with TLS to the registry inside it', async () => {
    const proxy = await startProxy();
    const pulled = await pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls({ HTTPS_PROXY: proxy.url }));
    expect(pulled.manifest.digest).toMatch(/^sha256:/);
    expect(proxy.connects.length).toBeGreaterThan(0);
    expect(new Set(proxy.connects)).toEqual(new Set([tlsRegistry.host]));
    expect(proxy.requests).toEqual([]);
    // Chunked, so several PATCHes travel through the tunnel too.
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, `${tlsRegistry.host}/proxy/pushed:1`, tls({ HTTPS_PROXY: proxy.url }, { chunkSize: 256 << 10 }));
    expect(pushed.descriptor.digest).toBe(pulled.manifest.digest);
  });

  it('checks the certificate end to end: a wrong CA fails even though the tunnel works', async () => {
    const proxy = await startProxy();
    const error = await failure(pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls({ HTTPS_PROXY: proxy.url }, { caCertFiles: [otherCa] })));
    expect(error.code).toBe('E_REGISTRY_TLS');
    expect(error.message).toContain(tlsRegistry.host);
    expect(proxy.connects).toContain(tlsRegistry.host);
  });

  it('sends the registry name as SNI and checks the certificate against it', async () => {
    const proxy = await startProxy();
    const host = `localhost:${tlsRegistry.port}`;
    await pullImage(await freshStore(), `${host}/proxy/busybox:1`, tls({ HTTPS_PROXY: proxy.url }));
    expect(proxy.connects).toContain(host);
    expect(proxy.helloNames('localhost').every(Boolean)).toBe(true);
  });

  it('a proxy refusing the destination (403) is a clear error pointing at NO_PROXY', async () => {
    const proxy = await startProxy({ refuse: 403 });
    const error = await failure(pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls({ HTTPS_PROXY: proxy.url })));
    expect(error).toMatchObject({ code: 'E_REGISTRY_PROXY', status: 403 });
    expect(error.message).toBe(`the proxy ${proxy.url} (HTTPS_PROXY) refused to connect to ${tlsRegistry.host} (403 Not Allowed Here)`);
    expect(error.hint).toContain('NO_PROXY');
  });
});

describe('plain-HTTP registry through HTTP_PROXY', () => {
  it('sends absolute-form requests to the proxy', async () => {
    const proxy = await startProxy();
    const pulled = await pullImage(await freshStore(), `${plainRegistry.host}/proxy/busybox:1`, { proxyEnv: { http_proxy: proxy.url }, retryDelayMs: 10 });
    expect(pulled.manifest.digest).toMatch(/^sha256:/);
    expect(proxy.requests).toContain(`GET http://${plainRegistry.host}/v2/`);
    expect(proxy.requests.some((r) => r.startsWith(`GET http://${plainRegistry.host}/v2/proxy/busybox/blobs/sha256:`))).toBe(true);
    expect(proxy.connects).toEqual([]);
  });

  it('with both variables set: the HTTPS probe is tunnelled, then plain HTTP goes in absolute form', async () => {
    const proxy = await startProxy();
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, `${plainRegistry.host}/proxy/pushed:1`, { proxyEnv: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url }, retryDelayMs: 10 });
    expect(pushed.descriptor.digest).toMatch(/^sha256:/);
    expect(proxy.connects).toContain(plainRegistry.host);
    expect(proxy.requests.some((r) => r.startsWith(`PUT http://${plainRegistry.host}/v2/proxy/pushed/manifests/1`))).toBe(true);
  });
});

describe('NO_PROXY', () => {
  it('a registry it names is reached directly: the proxy sees nothing', async () => {
    for (const noProxy of ['127.0.0.1', `127.0.0.1:${tlsRegistry.port}`, '*', '127.0.0.0/8']) {
      const proxy = await startProxy();
      await pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, no_proxy: noProxy }));
      expect({ noProxy, connects: proxy.connects, requests: proxy.requests }).toEqual({ noProxy, connects: [], requests: [] });
    }
  });

  it('is judged per host: the token service goes through the proxy while the registry does not', async () => {
    const proxy = await startProxy();
    const env = { HTTP_PROXY: proxy.url, NO_PROXY: `127.0.0.1:${tokenRegistry.port}` };
    await pullImage(await freshStore(), `${tokenRegistry.host}/proxy/busybox:1`, { dockerConfigDir, proxyEnv: env, retryDelayMs: 10 });
    expect(proxy.requests.length).toBeGreaterThan(0);
    for (const line of proxy.requests) expect(line).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/token\?/);
    expect(proxy.requests.join('\n')).not.toContain(tokenRegistry.host);

    const both = await startProxy();
    await pullImage(await freshStore(), `${tokenRegistry.host}/proxy/busybox:1`, { dockerConfigDir, proxyEnv: { HTTP_PROXY: both.url }, retryDelayMs: 10 });
    expect(both.requests.some((r) => r.includes('/token?'))).toBe(true);
    expect(both.requests.some((r) => r.startsWith(`GET http://${tokenRegistry.host}/v2/`))).toBe(true);
  });
});

describe('proxy authentication', () => {
  it('407 without credentials: says the proxy wants them and where to put them', async () => {
    const proxy = await startProxy({ credentials: `${PROXY_USER}:${PROXY_PASSWORD}` });
    const error = await failure(pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls({ HTTPS_PROXY: proxy.url })));
    expect(error).toMatchObject({ code: 'E_REGISTRY_PROXY', status: 407 });
    expect(error.message).toBe(`the proxy ${proxy.url} (HTTPS_PROXY) requires authentication and none was given (407 Proxy Authentication Required)`);
    expect(error.hint).toBe(`Put them in the proxy URL: HTTPS_PROXY=http://USER:PASSWORD@127.0.0.1:${proxy.port} (special characters percent-encoded).`);

    // The same for plain HTTP, where the 407 answers the forwarded request itself.
    const plain = await failure(pullImage(await freshStore(), `${plainRegistry.host}/proxy/busybox:1`, { proxyEnv: { HTTP_PROXY: proxy.url }, retryDelayMs: 10 }));
    expect(plain).toMatchObject({ code: 'E_REGISTRY_PROXY', status: 407 });
    expect(plain.message).toContain(`the proxy ${proxy.url} (HTTP_PROXY) requires authentication`);
  });

  it('a wrong password is refused without being shown', async () => {
    const proxy = await startProxy({ credentials: `${PROXY_USER}:${PROXY_PASSWORD}` });
    const error = await failure(pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls({ HTTPS_PROXY: withCredentials(proxy, WRONG_PASSWORD) })));
    expect(error).toMatchObject({ code: 'E_REGISTRY_PROXY', status: 407 });
    expect(error.message).toBe(`the proxy ${proxy.url} (HTTPS_PROXY) requires authentication and refused the user name and password given (407 Proxy Authentication Required)`);
    expect(error.hint).toBe('Check the user name and password in HTTPS_PROXY.');
  });

  it('user:password in the URL is sent as Proxy-Authorization, over HTTPS and plain HTTP', async () => {
    const proxy = await startProxy({ credentials: `${PROXY_USER}:${PROXY_PASSWORD}` });
    const env = { HTTPS_PROXY: withCredentials(proxy), HTTP_PROXY: withCredentials(proxy) };
    await pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls(env));
    await pullImage(await freshStore(), `${plainRegistry.host}/proxy/busybox:1`, { proxyEnv: env, retryDelayMs: 10 });
    expect(proxy.connects).toContain(tlsRegistry.host);
    expect(proxy.requests).toContain(`GET http://${plainRegistry.host}/v2/`);
  });
});

describe('an unreachable proxy', () => {
  it('is a clear error naming the proxy, without its password, after the usual retries', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await failure(
      pullImage(await freshStore(), `${tlsRegistry.host}/proxy/busybox:1`, tls({ HTTPS_PROXY: `http://${PROXY_USER}:${ENCODED_PASSWORD}@127.0.0.1:${port}` }, { retries: 2 })),
    );
    expect(error.code).toBe('E_REGISTRY_UNREACHABLE');
    expect(error.message).toBe(`cannot reach the proxy http://127.0.0.1:${port} (HTTPS_PROXY) on the way to ${tlsRegistry.host} (ECONNREFUSED)`);
    expect(error.hint).toContain('NO_PROXY');
    expect(Date.now() - started).toBeGreaterThanOrEqual(30); // 10 ms, then 20 ms: retried as a dropped connection is
  });

  it('a proxy that cannot reach the registry (502) is retried, then named', async () => {
    const proxy = await startProxy();
    const nowhere = `127.0.0.1:${await freePort()}`;
    const error = await failure(pullImage(await freshStore(), `${nowhere}/proxy/busybox:1`, { proxyEnv: { HTTPS_PROXY: proxy.url }, retries: 2, retryDelayMs: 10 }));
    expect(error).toMatchObject({ code: 'E_REGISTRY_PROXY', status: 502 });
    expect(error.message).toBe(`the proxy ${proxy.url} (HTTPS_PROXY) could not connect to ${nowhere} (502 Bad Gateway)`);
    expect(proxy.connects).toEqual([nowhere, nowhere, nowhere]);
  });
});

describe('the CLI', () => {
  it('pull and build read the proxy variables from the environment', async () => {
    const proxy = await startProxy({ credentials: `${PROXY_USER}:${PROXY_PASSWORD}` });
    const env = { DOCKER_CONFIG: dockerConfigDir, HTTPS_PROXY: withCredentials(proxy) };
    const root = join(scratch, 'cli-store');
    const ca = ['--ca-cert', tlsRegistry.caCert!];
    const pull = await runCli(['--root', root, 'pull', '--progress', 'plain', ...ca, `${tlsRegistry.host}/proxy/busybox:1`], { env, cwd: scratch });
    said.push(pull.stdout, pull.stderr);
    expect(pull).toMatchObject({ status: 0, stdout: `${tlsRegistry.host}/proxy/busybox:1\n` });
    expect(proxy.connects).toContain(tlsRegistry.host);

    const context = join(scratch, 'cli-context');
    writeTree(context, { Dockerfile: `FROM ${tlsRegistry.host}/proxy/busybox:1\nENV VIA=proxy\n` });
    const before = proxy.connects.length;
    const build = await runCli(['--root', join(scratch, 'cli-build-store'), 'build', '--progress', 'plain', ...ca, context], { env, cwd: scratch });
    said.push(build.stdout, build.stderr);
    expect(build.status).toBe(0);
    expect(proxy.connects.length).toBeGreaterThan(before);

    const refused = await runCli(['--root', root, 'pull', ...ca, `${tlsRegistry.host}/proxy/busybox:1`], { env: { ...env, HTTPS_PROXY: proxy.url }, cwd: scratch });
    said.push(refused.stdout, refused.stderr);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain(`the proxy ${proxy.url} (HTTPS_PROXY) requires authentication`);
    expect(refused.stderr).not.toMatch(/\n\s+at /); // an expected error: no stack trace
  });
});
