// pull, push, login and logout through main(), with captured streams, against a TLS
// registry with htpasswd auth: what a user types and sees, and no password in any of it.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, load } from '../../src/store/index.js';
import { BUSYBOX_REFERENCE, busyboxImageLayout } from '../helpers/busybox-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli, type CliRun } from '../helpers/run-cli.js';

const PASSWORD = 'cli-password-s3cret';
const WRONG = 'cli-wrong-pa55word';
let registry: TestRegistry;
let scratch: string;
let dockerConfig: string;
const transcript: string[] = [];

async function run(root: string, ...argv: string[]): Promise<CliRun> {
  return runWithStdin(undefined, root, ...argv);
}

async function runWithStdin(stdin: string | undefined, root: string, ...argv: string[]): Promise<CliRun> {
  const result = await runCli(['--root', root, ...argv], { env: { DOCKER_CONFIG: dockerConfig }, cwd: scratch, stdin });
  transcript.push(result.stdout, result.stderr);
  return result;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsbuild-registry-cli-'));
  dockerConfig = join(scratch, 'docker');
  registry = await startRegistry({ tls: true, htpasswd: { alice: PASSWORD } });
});

afterAll(async () => {
  await registry?.stop();
  await rm(scratch, { recursive: true, force: true });
  for (const secret of [PASSWORD, WRONG]) expect(transcript.join('\n')).not.toContain(secret);
});

describe('tsbuild login, push, pull, logout', () => {
  it('a whole session', async () => {
    const source = join(scratch, 'source');
    const store = await Store.open(source);
    await load(store, await busyboxImageLayout());
    const remote = `${registry.host}/cli/busybox:1`;
    await store.setTag(remote, (await store.resolveTag(BUSYBOX_REFERENCE))!);
    await store.close();
    const ca = ['--ca-cert', registry.caCert!];

    const wrong = await run(source, 'login', '-u', 'alice', '-p', WRONG, ...ca, registry.host);
    expect(wrong.status).toBe(4);
    expect(wrong.stderr).toContain(`${registry.host} refused the stored credentials (wrong user name or password)`);
    expect(wrong.stderr).not.toMatch(/\n\s+at /); // an expected error: no stack trace

    const login = await runWithStdin(`${PASSWORD}\n`, source, 'login', '-u', 'alice', '--password-stdin', ...ca, `https://${registry.host}`);
    expect(login).toMatchObject({ status: 0, stdout: 'Login Succeeded\n' });
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8'));
    expect(Buffer.from(config.auths[registry.host].auth, 'base64').toString()).toBe(`alice:${PASSWORD}`);
    expect((await stat(join(dockerConfig, 'config.json'))).mode & 0o777).toBe(0o600);

    const push = await run(source, 'push', ...ca, '--progress', 'plain', remote);
    expect(push.status).toBe(0);
    expect(push.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(push.stderr).toMatch(/pushing [a-f0-9]{12}: .* done/);

    const target = join(scratch, 'target');
    const pull = await run(target, 'pull', ...ca, '--progress', 'quiet', remote);
    expect(pull).toMatchObject({ status: 0, stdout: `${remote}\n` });
    expect(pull.stderr).toContain(`Digest: ${push.stdout.trim()}`);

    expect((await run(source, 'logout', registry.host)).stdout).toBe(`Removing login credentials for ${registry.host}\n`);
    expect((await run(source, 'logout', registry.host)).stdout).toBe(`Not logged in to ${registry.host}\n`);
    const denied = await run(join(scratch, 'other'), 'pull', ...ca, remote);
    expect(denied.status).toBe(4);
    expect(denied.stderr).toContain('requires authentication');
    expect(denied.stderr).toContain(`hint: Log in first: tsbuild login ${registry.host}`);
  });

  it('names a bad reference and an unreachable registry clearly', async () => {
    const root = join(scratch, 'errors');
    const bad = await run(root, 'pull', 'Not/Valid');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('invalid image reference');
    const down = await run(root, 'pull', '127.0.0.1:1/nothing:here');
    expect(down.status).toBe(4);
    expect(down.stderr).toContain('cannot reach the registry 127.0.0.1:1');
  });
});
