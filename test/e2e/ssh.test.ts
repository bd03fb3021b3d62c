// RUN --mount=type=ssh in a user's builds, with real OpenSSH agents: key files held by a
// per-build ssh-agent, the user's own agent (--ssh default), and the mistakes a user makes.
// busybox has no ssh client, so a tiny static agent client (fixtures/ssh-agent) talks to the
// agent from inside the step.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { filesUnder, testdir, usePrivateTmpdir } from '../helpers/testdir.js';
import { openSession, type Session } from './session.js';

const KEY_COMMENT = 'tsbuild-test-key';

const missing = ['ssh-agent', 'ssh-add', 'ssh-keygen', 'gcc'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) console.warn(`skipping the ssh e2e tests: ${missing.join(', ')} not installed (apt-get install openssh-client gcc libc6-dev)`);

/** The agent client, compiled static once for the file. */
function compileClient(dir: string): string {
  const out = join(dir, 'agent-client');
  execFileSync('gcc', ['-static', '-O2', '-o', out, join(REPO_ROOT, 'fixtures/ssh-agent/agent-client.c')]);
  return out;
}

function generateKey(dir: string, name: string, passphrase = ''): string {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', KEY_COMMENT, '-f', key]);
  return key;
}

/** Runs `work` with an ssh-agent of the test's own holding `key`, as a user's login session has one. */
async function withUserAgent(dir: string, key: string, work: (socket: string) => Promise<void>): Promise<void> {
  const socket = join(dir, 'user-agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve) => child.stdout!.on('data', () => resolve()));
    execFileSync('ssh-add', ['-q', key], { env: { PATH: process.env.PATH, SSH_AUTH_SOCK: socket } });
    await work(socket);
  } finally {
    child.kill();
  }
}

/** ssh-agent processes a build started (their sockets are in tsbuild-ssh-* dirs under the temp dir). */
function buildAgentsRunning(): string[] {
  const marker = join(tmpdir(), 'tsbuild-ssh-');
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args[0]?.endsWith('ssh-agent') && args.some((arg) => arg.startsWith(marker));
    } catch {
      return false; // exited while we looked
    }
  });
}

function buildAgentDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('tsbuild-ssh-'));
}

describe.skipIf(missing.length > 0)('RUN --mount=type=ssh', () => {
  let session: Session;
  let keys: string;
  let key: string;
  let client: string;

  beforeAll(async () => {
    session = await openSession();
    keys = join(session.dir, 'keys');
    mkdirSync(keys, { mode: 0o700 });
    key = generateKey(keys, 'id_ed25519');
    client = compileClient(session.dir);
  }, 60_000);
  afterAll(() => session.close());
  // The checks for leftover agents and socket dirs look at this file's builds only.
  usePrivateTmpdir('tsbuild-ssh-e2e-');

  /** A context with the agent client at /agent-client and these steps after FROM busybox + COPY. */
  function contextWith(steps: string): string {
    const context = testdir({ Dockerfile: `FROM busybox\nCOPY agent-client /agent-client\n${steps}` });
    copyFileSync(client, join(context, 'agent-client'));
    return context;
  }

  it('--ssh ID=KEYFILE: the step reaches a per-build agent holding the key, which is gone after the build', async () => {
    const context = contextWith('RUN --mount=type=ssh,id=mykey (/agent-client list && /agent-client sign) > /identities && echo "$SSH_AUTH_SOCK" > /sock\n');
    const dirsBefore = buildAgentDirs();
    const out = join(session.dir, 'keyfile-rootfs');
    const built = await session.tsbuild(['build', '--progress', 'plain', '--ssh', `mykey=${key}`, '-o', `type=local,dest=${out}`, context]);
    expect(built.status, built.stderr).toBe(0);
    expect(readFileSync(join(out, 'identities'), 'utf8')).toBe(`${KEY_COMMENT}\n1 identities\nsigned\n`);
    expect(readFileSync(join(out, 'sock'), 'utf8')).toBe('/run/buildkit/ssh_agent.0\n');
    // The mount point never reaches the layer.
    expect(existsSync(join(out, 'run/buildkit'))).toBe(false);
    expect(buildAgentsRunning()).toEqual([]);
    expect(buildAgentDirs()).toEqual(dirsBefore);
  });

  it('--ssh default forwards the agent at $SSH_AUTH_SOCK, with the socket owner and mode the mount asks for', async () => {
    await withUserAgent(session.dir, key, async (socket) => {
      const context = contextWith([
        'USER nobody',
        'RUN --mount=type=ssh,uid=65534,mode=0600,target=/tmp/agent.sock stat -c "%u %a %F" /tmp/agent.sock > /tmp/stat && /agent-client list > /tmp/identities',
        'USER root',
        'RUN --mount=type=ssh,required=true (test -S "$SSH_AUTH_SOCK" && /agent-client list) > /root-identities',
      ].join('\n') + '\n');
      const out = join(session.dir, 'default-rootfs');
      const built = await session.tsbuild(['build', '--progress', 'plain', '--ssh', 'default', '-o', `type=local,dest=${out}`, context], { env: { SSH_AUTH_SOCK: socket } });
      expect(built.status, built.stderr).toBe(0);
      expect(readFileSync(join(out, 'tmp/stat'), 'utf8')).toBe('65534 600 socket\n');
      expect(readFileSync(join(out, 'tmp/identities'), 'utf8')).toBe(`${KEY_COMMENT}\n1 identities\n`);
      expect(readFileSync(join(out, 'root-identities'), 'utf8')).toBe(`${KEY_COMMENT}\n1 identities\n`);
    });
  });

  it('a step may list and sign, but not remove the keys of your agent or of the build\'s', async () => {
    await withUserAgent(session.dir, key, async (socket) => {
      const context = contextWith([
        'RUN --mount=type=ssh (/agent-client remove-all && /agent-client list) > /yours',
        'RUN --mount=type=ssh,id=file (/agent-client remove-all && /agent-client list) > /builds',
      ].join('\n') + '\n');
      const out = join(session.dir, 'remove-rootfs');
      const built = await session.tsbuild(['build', '--progress', 'plain', '--ssh', 'default', '--ssh', `file=${key}`, '-o', `type=local,dest=${out}`, context], { env: { SSH_AUTH_SOCK: socket } });
      expect(built.status, built.stderr).toBe(0);
      expect(readFileSync(join(out, 'yours'), 'utf8')).toBe(`refused\n${KEY_COMMENT}\n1 identities\n`);
      expect(readFileSync(join(out, 'builds'), 'utf8')).toBe(`refused\n${KEY_COMMENT}\n1 identities\n`);
      expect(execFileSync('ssh-add', ['-l'], { env: { PATH: process.env.PATH, SSH_AUTH_SOCK: socket }, encoding: 'utf8' })).toContain(KEY_COMMENT);
    });
  });

  it('an ssh mount with no --ssh for its id is skipped, and SSH_AUTH_SOCK still names its place', async () => {
    const context = contextWith('RUN --mount=type=ssh,id=absent (test -e "$SSH_AUTH_SOCK" && echo mounted || echo "skipped $SSH_AUTH_SOCK") > /result\n');
    const out = join(session.dir, 'optional-rootfs');
    const built = await session.tsbuild(['build', '--progress', 'plain', '--ssh', `other=${key}`, '-o', `type=local,dest=${out}`, context]);
    expect(built.status, built.stderr).toBe(0);
    expect(readFileSync(join(out, 'result'), 'utf8')).toBe('skipped /run/buildkit/ssh_agent.0\n');
  });

  it('required=true with no --ssh for its id is an error at its Dockerfile line', async () => {
    const context = contextWith('RUN --mount=type=ssh,id=github,required=true /agent-client list\n');
    const result = await session.tsbuild(['build', context]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^\S*Dockerfile:3:1\n[^]*^ERROR: ssh agent "github" is required by this step but was not given/m);
    expect(result.stderr).toContain('hint: pass it with --ssh github=KEYFILE or --ssh github=SOCKET');
    expect(buildAgentsRunning()).toEqual([]);
  });

  it('a failing step stops the build agent too', async () => {
    const context = contextWith('RUN --mount=type=ssh /agent-client list && false\n');
    const result = await session.tsbuild(['build', '--ssh', `default=${key}`, context]);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain(KEY_COMMENT); // the step's output, before it failed
    expect(buildAgentsRunning()).toEqual([]);
  });

  it('neither the key, its path nor a socket path reaches the image, its config and history, the archive or the store; replay is given the agents again', async () => {
    await withUserAgent(session.dir, key, async (socket) => {
      const context = contextWith('RUN --mount=type=ssh /agent-client list > /identities\nRUN --mount=type=ssh,id=file /agent-client list >> /identities\n');
      const image = join(session.dir, 'leak.tar');
      const archive = join(session.dir, 'leak-archive.tar');
      const built = await session.tsbuild([
        'build', '--progress', 'plain', '--ssh', 'default', '--ssh', `file=${key}`, '-o', `type=oci,dest=${image}`, '--archive', archive, context,
      ], { env: { SSH_AUTH_SOCK: socket } });
      expect(built.status, built.stderr).toBe(0);
      const privateKey = readFileSync(key, 'utf8').split('\n').filter((line) => line && !line.startsWith('-----')).join('');
      const forbidden = [key, socket, 'tsbuild-ssh-', privateKey.slice(0, 40), privateKey.slice(-40)];
      const { config } = await session.list(image);
      const configText = JSON.stringify(config);
      expect(configText).not.toContain('SSH_AUTH_SOCK');
      for (const text of forbidden) {
        expect(configText.includes(text), `config contains ${text}`).toBe(false);
        expect(built.stderr.includes(text), `the build's output contains ${text}`).toBe(false);
        for (const file of [image, archive, ...filesUnder(session.store)]) expect(readFileSync(file).includes(text), `${file} contains ${text}`).toBe(false);
      }
      // The agents are the same keys, given this time as a key file to both ids.
      const replayed = await session.tsbuild(['replay', '--progress', 'quiet', '--ssh', `default=${key}`, '--ssh', `file=${key}`, archive]);
      expect(replayed.status, replayed.stderr).toBe(0);
      expect(replayed.stdout).toMatch(/^reproduced (\d+)\/\1 steps\n$/);
    });
  });

  describe('a --ssh that cannot work is a usage error with a hint, before anything runs', () => {
    const build = (ssh: string, env: NodeJS.ProcessEnv = {}) => session.tsbuild(['build', '--ssh', ssh, contextWith('RUN --mount=type=ssh true\n')], { env });

    it.each([
      ['default with no SSH_AUTH_SOCK', () => build('default'), /--ssh default: SSH_AUTH_SOCK is not set/, /hint: start one .*--ssh default=~\/\.ssh\/id_ed25519/],
      ['a key file that does not exist', () => build(`k=${join(keys, 'nope')}`), /--ssh k: \S+\/nope does not exist/, /hint: give private key files/],
      ['a stale SSH_AUTH_SOCK', () => build('default', { SSH_AUTH_SOCK: join(keys, 'gone.sock') }), /--ssh default: \S+gone\.sock does not exist/, /hint: /],
      ['the public key instead of the private one', () => build(`k=${key}.pub`), /--ssh k: \S+\.pub is not a private key ssh-add can load/, /hint: give the private key file/],
      ['a key protected by a passphrase', () => build(`k=${generateKey(keys, 'id_protected', 'correct horse')}`), /--ssh k: the key \S+id_protected is protected by a passphrase/, /hint: add it to your own agent \(ssh-add \S+id_protected\)/],
      ['a directory', () => build(`k=${keys}`), /--ssh k: \S+ is a directory/, /hint: /],
    ])('%s', async (_what, run, message, hint) => {
      const result = await run();
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(hint);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(buildAgentsRunning()).toEqual([]);
    });
  });
});
