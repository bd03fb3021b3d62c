// Real registries for the tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1,
// storage in a temp dir. Three shapes: plain HTTP and anonymous; TLS with a CA made here by
// openssl and htpasswd (basic) auth; and token auth, where a small token service in this
// process signs JWTs that the real registry verifies, so the bearer flow and per-repository
// permissions (pull only vs pull+push) are exercised against distribution's own checks.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenUser {
  password: string;
  /** Accepted by the OAuth2 refresh-token grant (POST), as Docker's identity tokens are. */
  refreshToken?: string;
  /** Actions granted on every repository (e.g. ['pull'] or ['pull', 'push']). */
  actions: string[];
}

export interface RegistryOptions {
  tls?: boolean;
  /** user → password: htpasswd (basic) auth. */
  htpasswd?: Record<string, string>;
  /** user → grants: bearer-token auth through a token service run by this helper. */
  token?: Record<string, TokenUser>;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  /** The CA that signed the registry's certificate (TLS only). */
  caCert?: string;
  dataDir: string;
  /** SIGKILLs the registry process (storage is kept). */
  kill(): Promise<void>;
  /** Starts it again on the same port and storage. */
  start(): Promise<void>;
  /** Kills it and removes its files. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: host, secret: randomBytes(16).toString('hex') },
  };
  let caCert: string | undefined;
  if (options.tls) {
    caCert = makeTlsFiles(dir);
    (config.http as Record<string, unknown>).tls = { certificate: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  }
  if (options.htpasswd) {
    const lines = Object.entries(options.htpasswd).map(([user, password]) =>
      execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim(),
    );
    writeFileSync(join(dir, 'htpasswd'), lines.join('\n') + '\n');
    config.auth = { htpasswd: { realm: 'tsbuild-test', path: join(dir, 'htpasswd') } };
  }
  let tokenServer: Server | undefined;
  if (options.token) {
    const service = await startTokenService(dir, options.token);
    tokenServer = service.server;
    config.auth = {
      token: { realm: service.realm, service: SERVICE, issuer: ISSUER, rootcertbundle: service.certPath },
    };
  }
  const configPath = join(dir, 'config.json'); // JSON is YAML
  writeFileSync(configPath, JSON.stringify(config));

  let child: ChildProcess | undefined;
  let stopped = false;
  const start = async () => {
    if (stopped) throw new Error(`registry ${host} was stopped; it cannot start again`);
    child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    await waitUntilServing(host, Boolean(options.tls), caCert, () => stderr, child);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    host,
    port,
    caCert,
    dataDir: join(dir, 'data'),
    kill,
    start,
    async stop() {
      stopped = true;
      await kill();
      if (tokenServer) await new Promise((resolve) => tokenServer!.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilServing(host: string, tls: boolean, ca: string | undefined, stderr: () => string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    if (await answers(host, tls, ca)) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host}: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function answers(host: string, tls: boolean, ca: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const request = tls ? httpsRequest : httpRequest;
    const req = request(`${tls ? 'https' : 'http'}://${host}/v2/`, tls ? { ca: readFileSync(ca!) } : {}, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function makeTlsFiles(dir: string): string {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tsbuild test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
  return join(dir, 'ca.crt');
}

// --- token service ----------------------------------------------------------------------

const SERVICE = 'tsbuild-test-registry';
const ISSUER = 'tsbuild-test-issuer';

async function startTokenService(dir: string, users: Record<string, TokenUser>): Promise<{ server: Server; realm: string; certPath: string }> {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '2', '-subj', '/CN=tsbuild test token issuer'], { cwd: dir, stdio: 'pipe' });
  const key = readFileSync(join(dir, 'token.key'), 'utf8');
  const certDer = pemBody(readFileSync(join(dir, 'token.crt'), 'utf8'));
  const server = createHttpServer(async (req, res) => {
    let params = new URL(req.url ?? '/', 'http://token').searchParams;
    let user: TokenUser | undefined;
    let scopes = params.getAll('scope');
    if (req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      params = new URLSearchParams(body);
      user = Object.values(users).find((u) => u.refreshToken !== undefined && u.refreshToken === params.get('refresh_token'));
      scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
      if (params.get('grant_type') !== 'refresh_token' || !user) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"invalid refresh token"}');
        return;
      }
    } else {
      user = basicUser(req.headers.authorization, users);
      if (req.headers.authorization && !user) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"invalid credentials"}');
        return;
      }
    }
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      const granted = (actions ?? '').split(',').filter((a) => user?.actions.includes(a));
      return granted.length > 0 ? [{ type, name, actions: granted }] : [];
    });
    const token = signJwt(key, certDer, {
      iss: ISSUER,
      sub: user ? 'user' : '',
      aud: params.get('service') ?? SERVICE,
      exp: Math.floor(Date.now() / 1000) + 300,
      nbf: Math.floor(Date.now() / 1000) - 10,
      iat: Math.floor(Date.now() / 1000),
      jti: randomBytes(8).toString('hex'),
      access,
    });
    const answer = req.method === 'POST' ? { access_token: token, expires_in: 300 } : { token, expires_in: 300 };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, realm: `http://127.0.0.1:${port}/token`, certPath: join(dir, 'token.crt') };
}

function basicUser(header: string | undefined, users: Record<string, TokenUser>): TokenUser | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = users[decoded.slice(0, colon)];
  return user && user.password === decoded.slice(colon + 1) ? user : undefined;
}

function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

function signJwt(key: string, certDer: string, claims: unknown): string {
  const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${b64url(signature)}`;
}
