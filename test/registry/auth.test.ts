// Authentication and TLS against real registries: htpasswd (basic) over TLS with a CA made
// by the test, and bearer tokens whose scopes the registry itself checks. Every failure must
// say what is wrong and what to do, and no secret may appear in anything tsbuild says.

import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { pullImage, pushImage, type RegistryOptions } from '../../src/registry/index.js';
import { Store, load } from '../../src/store/index.js';
import { renderError } from '../../src/ui/render-error.js';
import { BUSYBOX_REFERENCE, busyboxImageLayout } from '../helpers/busybox-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const SECRETS = ['correct-horse-battery', 'wrong-password-123', 'reader-secret-xyz', 'writer-secret-xyz', 'writer-refresh-token-xyz'];
let tlsRegistry: TestRegistry;
let tokenRegistry: TestRegistry;
let scratch: string;
let source: Store;
const events: BuildEvent[] = [];
const seen: unknown[] = [];

/** A Docker config dir holding `auths` for one registry. */
async function dockerConfig(name: string, config: unknown): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function auths(host: string, user: string, password: string) {
  return { auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } };
}

/** Runs `promise`, expecting a failure; records it so the secret scan covers it. */
async function failure(promise: Promise<unknown>): Promise<Error & { code: string; hint?: string }> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error & { code: string; hint?: string },
  );
  seen.push(error);
  return error;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsbuild-auth-test-'));
  [tlsRegistry, tokenRegistry] = await Promise.all([
    startRegistry({ tls: true, htpasswd: { alice: SECRETS[0]! } }),
    startRegistry({ token: { reader: { password: SECRETS[2]!, actions: ['pull'] }, writer: { password: SECRETS[3]!, refreshToken: SECRETS[4]!, actions: ['pull', 'push'] } } }),
  ]);
  source = await Store.open(join(scratch, 'source'));
  await load(source, await busyboxImageLayout());
});

afterAll(async () => {
  await Promise.all([tlsRegistry?.stop(), tokenRegistry?.stop()]);
  await rm(scratch, { recursive: true, force: true });
  // No secret in any error, hint, rendered error or progress event of this file.
  const said = [...seen.map((e) => `${String(e)}\n${JSON.stringify(e)}\n${(e as { hint?: string }).hint ?? ''}\n${renderError(e, { color: false, debug: true })}`), JSON.stringify(events)].join('\n');
  for (const secret of SECRETS) expect(said).not.toContain(secret);
});

describe('TLS', () => {
  it('refuses a certificate it cannot verify, naming the fixes', async () => {
    const error = await failure(pushImage(source, BUSYBOX_REFERENCE, `${tlsRegistry.host}/t/busybox:1`, { retryDelayMs: 10 }));
    expect(error.code).toBe('E_REGISTRY_TLS');
    expect(error.hint).toContain('--ca-cert');
    expect(error.hint).toContain(`/etc/docker/certs.d/${tlsRegistry.host}/ca.crt`);
  });

  it('trusts a CA from /etc/docker/certs.d-style directories, and --insecure-registry skips verification', async () => {
    const certsDir = join(scratch, 'certs.d');
    await mkdir(join(certsDir, tlsRegistry.host), { recursive: true });
    await copyFile(tlsRegistry.caCert!, join(certsDir, tlsRegistry.host, 'ca.crt'));
    const dockerConfigDir = await dockerConfig('alice-certsd', auths(tlsRegistry.host, 'alice', SECRETS[0]!));
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, `${tlsRegistry.host}/t/busybox:1`, { certsDir, dockerConfigDir, onEvent: (e) => events.push(e) });
    const target = await Store.open(join(scratch, 'insecure-target'));
    const pulled = await pullImage(target, `${tlsRegistry.host}/t/busybox:1`, { insecureRegistries: [tlsRegistry.host], dockerConfigDir });
    expect(pulled.manifest.digest).toBe(pushed.descriptor.digest);
  });
});

describe('basic auth (htpasswd)', () => {
  const tls = (): RegistryOptions => ({ caCertFiles: [tlsRegistry.caCert!], retryDelayMs: 10 });

  it('asks for a login when no credentials are stored', async () => {
    const error = await failure(pushImage(source, BUSYBOX_REFERENCE, `${tlsRegistry.host}/t/busybox:2`, tls()));
    expect(error.code).toBe('E_REGISTRY_UNAUTHORIZED');
    expect(error.message).toContain('requires authentication');
    expect(error.hint).toBe(`Log in first: tsbuild login ${tlsRegistry.host}`);
  });

  it('says the password is wrong, without showing it', async () => {
    const dockerConfigDir = await dockerConfig('alice-wrong', auths(tlsRegistry.host, 'alice', SECRETS[1]!));
    const error = await failure(pullImage(await Store.open(join(scratch, 'wrong')), `${tlsRegistry.host}/t/busybox:1`, { ...tls(), dockerConfigDir }));
    expect(error.code).toBe('E_REGISTRY_UNAUTHORIZED');
    expect(error.message).toContain('wrong user name or password');
  });

  it('pushes and pulls with the right password', async () => {
    const dockerConfigDir = await dockerConfig('alice-right', auths(tlsRegistry.host, 'alice', SECRETS[0]!));
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, `${tlsRegistry.host}/t/busybox:3`, { ...tls(), dockerConfigDir, onEvent: (e) => events.push(e) });
    const pulled = await pullImage(await Store.open(join(scratch, 'right')), `${tlsRegistry.host}/t/busybox:3`, { ...tls(), dockerConfigDir });
    expect(pulled.manifest.digest).toBe(pushed.descriptor.digest);
  });
});

describe('bearer tokens', () => {
  it('a writer pushes; a reader pulls but is denied push; anonymous is denied pull', async () => {
    const writer = await dockerConfig('writer', auths(tokenRegistry.host, 'writer', SECRETS[3]!));
    const reader = await dockerConfig('reader', auths(tokenRegistry.host, 'reader', SECRETS[2]!));
    const ref = `${tokenRegistry.host}/team/busybox:1`;
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, ref, { dockerConfigDir: writer, onEvent: (e) => events.push(e) });
    const pulled = await pullImage(await Store.open(join(scratch, 'reader-pull')), ref, { dockerConfigDir: reader });
    expect(pulled.manifest.digest).toBe(pushed.descriptor.digest);

    const denied = await failure(pushImage(source, BUSYBOX_REFERENCE, `${tokenRegistry.host}/team/busybox:2`, { dockerConfigDir: reader }));
    expect(denied.code).toBe('E_REGISTRY_DENIED');
    expect(denied.message).toBe(`push access to ${tokenRegistry.host}/team/busybox was denied`);

    const anonymous = await failure(pullImage(await Store.open(join(scratch, 'anon')), ref, {}));
    expect(anonymous.code).toBe('E_REGISTRY_DENIED');
    expect(anonymous.message).toContain('pull access');
  });

  it('a wrong password is refused by the token service', async () => {
    const wrong = await dockerConfig('writer-wrong', auths(tokenRegistry.host, 'writer', SECRETS[1]!));
    const error = await failure(pullImage(await Store.open(join(scratch, 'token-wrong')), `${tokenRegistry.host}/team/busybox:1`, { dockerConfigDir: wrong }));
    expect(error.code).toBe('E_REGISTRY_UNAUTHORIZED');
    expect(error.message).toContain('refused the stored credentials');
  });

  it('trades an identity token (OAuth refresh token) for access tokens, and names a bad one', async () => {
    const dockerConfigDir = await dockerConfig('identity', { auths: { [tokenRegistry.host]: { identitytoken: SECRETS[4] } } });
    const pushed = await pushImage(source, BUSYBOX_REFERENCE, `${tokenRegistry.host}/team/busybox:identity`, { dockerConfigDir, onEvent: (e) => events.push(e) });
    expect(pushed.descriptor.digest).toMatch(/^sha256:/);
    const stale = await dockerConfig('identity-stale', { auths: { [tokenRegistry.host]: { identitytoken: SECRETS[1] } } });
    const error = await failure(pullImage(await Store.open(join(scratch, 'identity-stale')), `${tokenRegistry.host}/team/busybox:identity`, { dockerConfigDir: stale }));
    expect(error.code).toBe('E_REGISTRY_UNAUTHORIZED');
  });

  it('takes credentials from a docker-credential helper named in credHelpers', async () => {
    const bin = join(scratch, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-tsbuildtest');
    await writeFile(
      helper,
      `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${tokenRegistry.host}" ] || { echo "credentials not found"; exit 1; }\n` +
        `printf '{"ServerURL":"%s","Username":"writer","Secret":"${SECRETS[3]}"}' "$server"\n`,
    );
    await chmod(helper, 0o755);
    const dockerConfigDir = await dockerConfig('helper', { credHelpers: { [tokenRegistry.host]: 'tsbuildtest' } });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const pushed = await pushImage(source, BUSYBOX_REFERENCE, `${tokenRegistry.host}/team/busybox:helper`, { dockerConfigDir });
      expect(pushed.descriptor.digest).toMatch(/^sha256:/);
    } finally {
      process.env.PATH = path;
    }
  });
});
