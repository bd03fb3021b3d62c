// Credentials as Docker keeps them, in `$DOCKER_CONFIG/config.json` (default ~/.docker):
// `credHelpers[host]` names a `docker-credential-<name>` program for one registry,
// `credsStore` one for all, otherwise `auths[host].auth` holds base64 `user:password`.
// Helpers speak Docker's protocol: the verb as argument, the server on stdin, JSON out.
// Secrets never go into messages: errors name the registry and the helper, nothing else.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryError } from '../errors.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { isCode } from '../lib/lock.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth refresh token (Docker's `identitytoken`), traded for access tokens instead of the password. */
  identityToken?: string;
}

/** What credential helpers return as the user name when the secret is an identity token. */
const IDENTITY_TOKEN_USER = '<token>';

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

/** The directory holding config.json, as the docker CLI finds it. */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || '/root', '.docker');
}

/** Docker Hub's credentials live under its v1 index URL, for compatibility. */
function configKey(domain: string): string {
  return domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
}

/** `https://host:5000/v1/` and `host:5000` name the same registry in `auths`. */
function keyDomain(key: string): string {
  const bare = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return bare === 'index.docker.io' || bare === 'registry-1.docker.io' ? 'docker.io' : bare;
}

async function readConfig(dir: string): Promise<DockerConfig> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return {};
    throw error;
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch {
    throw new RegistryError('E_REGISTRY_CONFIG', `${path} is not valid JSON`, { hint: 'Fix or remove the file, then log in again.' });
  }
}

function helperFor(config: DockerConfig, domain: string): string | undefined {
  const byHost = Object.entries(config.credHelpers ?? {}).find(([key]) => keyDomain(key) === domain)?.[1];
  return byHost ?? (config.credsStore || undefined);
}

export async function getCredentials(dir: string, domain: string): Promise<Credentials | undefined> {
  const config = await readConfig(dir);
  const helper = helperFor(config, domain);
  if (helper) {
    const out = await runHelper(helper, 'get', configKey(domain), domain, true);
    if (out === undefined) return undefined;
    const parsed = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!parsed.Secret) return undefined;
    if (parsed.Username === IDENTITY_TOKEN_USER) return { username: '', password: '', identityToken: parsed.Secret };
    return { username: parsed.Username ?? '', password: parsed.Secret };
  }
  const entry = Object.entries(config.auths ?? {}).find(([key]) => keyDomain(key) === domain)?.[1];
  if (!entry) return undefined;
  if (entry.identitytoken) return { username: entry.username ?? '', password: '', identityToken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

export async function storeCredentials(dir: string, domain: string, credentials: Credentials): Promise<void> {
  const config = await readConfig(dir);
  const helper = helperFor(config, domain);
  if (helper) {
    const input = JSON.stringify({ ServerURL: configKey(domain), Username: credentials.username, Secret: credentials.password });
    await runHelper(helper, 'store', input, domain, false);
    return;
  }
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  config.auths = { ...withoutDomain(config.auths ?? {}, domain), [configKey(domain)]: { auth } };
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, '\t') + '\n', 0o600);
}

/** Resolves to whether anything was removed. */
export async function eraseCredentials(dir: string, domain: string): Promise<boolean> {
  const config = await readConfig(dir);
  const helper = helperFor(config, domain);
  let erased = false;
  if (helper) erased = (await runHelper(helper, 'erase', configKey(domain), domain, true)) !== undefined;
  const auths = config.auths ?? {};
  const kept = withoutDomain(auths, domain);
  if (Object.keys(kept).length !== Object.keys(auths).length) {
    config.auths = kept;
    await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, '\t') + '\n', 0o600);
    erased = true;
  }
  return erased;
}

function withoutDomain<T>(auths: Record<string, T>, domain: string): Record<string, T> {
  return Object.fromEntries(Object.entries(auths).filter(([key]) => keyDomain(key) !== domain));
}

/**
 * Runs `docker-credential-<helper> <verb>` with `input` on stdin. Resolves to stdout, or to
 * undefined when the helper reports that it has no credentials (as `get`/`erase` may).
 */
function runHelper(helper: string, verb: 'get' | 'store' | 'erase', input: string, domain: string, missingOk: boolean): Promise<string | undefined> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.resume();
    child.on('error', (error) => {
      reject(new RegistryError('E_REGISTRY_CREDENTIALS', `cannot run the credential helper ${program} for ${domain}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, {
        hint: `Install ${program}, or remove it from credsStore/credHelpers in config.json.`,
      }));
    });
    child.on('close', (status) => {
      const text = Buffer.concat(out).toString('utf8');
      if (status === 0) return resolve(text);
      // Helpers print "credentials not found in native keychain" on stdout for a miss.
      if (missingOk && /not found/i.test(text)) return resolve(undefined);
      reject(new RegistryError('E_REGISTRY_CREDENTIALS', `the credential helper ${program} failed (${verb}) for ${domain} with status ${status}`, {
        hint: `Check that ${program} works: \`${program} list\` shows the servers it holds credentials for.`,
      }));
    });
    child.stdin.on('error', () => undefined); // a helper that exits early closes stdin
    child.stdin.end(input);
  });
}
