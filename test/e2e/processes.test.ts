// The real CLI as separate processes: Ctrl-C during a build, two builds at once on one store,
// a prune during a build. Runs a private build of the CLI (isolated-cli.ts).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTree } from '../helpers/testdir.js';
import { isolatedCli } from './isolated-cli.js';
import { openSession, type Session } from './session.js';

let CLI: string;
const hasOpenSsh = ['ssh-agent', 'ssh-add', 'ssh-keygen'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
if (!hasOpenSsh) console.warn('skipping the Ctrl-C test of ssh agents: OpenSSH (openssh-client) is not installed');

interface Child {
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal: NodeJS.Signals): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

function cli(store: string, argv: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [CLI, '--root', store, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal, at: Date.now() })));
  return {
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    kill: (signal) => child.kill(signal),
    async waitFor(pattern, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; stderr so far:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

function processesRunning(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('tsbuild build as a process', () => {
  let session: Session;

  beforeAll(async () => {
    CLI = isolatedCli();
    session = await openSession();
  }, 60_000);
  afterAll(() => session.close());

  it('Ctrl-C stops the running step within a second, exits 130, and leaves the store clean', async () => {
    const context = join(session.dir, 'sleepy');
    writeTree(context, { Dockerfile: 'FROM busybox AS a\nRUN sleep 4242\nFROM busybox AS b\nRUN sleep 4243\nFROM busybox\nCOPY --from=a / /a\nCOPY --from=b / /b\n' });
    const build = cli(session.store, ['build', '--progress', 'json', '-t', 'sleepy', context]);
    await build.waitFor(/"type":"step.start"[^\n]*\n[\s\S]*"type":"step.start"/);
    for (let waited = 0; processesRunning('^sleep 424[23]$').length < 2; waited += 50) {
      if (waited > 15_000) throw new Error(`the steps' processes never started; stderr:\n${build.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sentAt = Date.now();
    build.kill('SIGINT');
    const { code, at } = await build.exited;
    expect(code, build.stderr()).toBe(130);
    expect(at - sentAt).toBeLessThan(1500);
    expect(build.stderr()).toContain('"type":"step.cancelled"');
    const left = processesRunning('sleep 424[23]');
    // spawnSync: a process that exits before ps looks would make ps fail, hiding the others.
    expect(left, left.length ? spawnSync('ps', ['-o', 'pid,ppid,stat,etimes,args', '-p', left.join(',')], { encoding: 'utf8' }).stdout : '').toEqual([]);
    expect(session.storeTemp()).toEqual([]);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(session.store);
    const verify = await session.tsbuild(['store', 'verify']);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect((await session.tsbuild(['inspect', 'sleepy'])).status).not.toBe(0);
  });

  it.skipIf(!hasOpenSsh)('Ctrl-C during a step with an ssh mount also stops the build\'s ssh-agent and removes its sockets', async () => {
    // TMPDIR of its own: the agent's socket dir, and so its command line, are this build's alone.
    const tmp = join(session.dir, 'ssh-tmp');
    mkdirSync(tmp);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(tmp, 'key')]);
    const context = join(session.dir, 'ssh-sleepy');
    writeTree(context, { Dockerfile: 'FROM busybox\nRUN --mount=type=ssh sleep 4244\n' });
    const build = cli(session.store, ['build', '--progress', 'json', '--ssh', `default=${join(tmp, 'key')}`, context], { TMPDIR: tmp });
    for (let waited = 0; processesRunning('^sleep 4244$').length < 1; waited += 50) {
      if (waited > 15_000) throw new Error(`the step's process never started; stderr:\n${build.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(processesRunning(`ssh-agent -D -a ${tmp}/`)).toHaveLength(1);
    build.kill('SIGINT');
    const { code } = await build.exited;
    expect(code, build.stderr()).toBe(130);
    expect(processesRunning(`ssh-agent -D -a ${tmp}/`)).toEqual([]);
    expect(readdirSync(tmp).sort()).toEqual(['key', 'key.pub']);
  });

  it('two builds at once on one store both succeed with the same image', async () => {
    const context = join(session.dir, 'twice');
    writeTree(context, {
      Dockerfile: 'FROM busybox\nCOPY data.txt /data.txt\nRUN sleep 0.5 && wc -c /data.txt > /count\nRUN echo done > /done\n',
      'data.txt': 'some data\n',
    });
    const first = cli(session.store, ['build', '-q', '-t', 'twice:a', context]);
    const second = cli(session.store, ['build', '-q', '-t', 'twice:b', context]);
    const [a, b] = await Promise.all([first.exited, second.exited]);
    expect(a.code, first.stderr()).toBe(0);
    expect(b.code, second.stderr()).toBe(0);
    expect(first.stdout()).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(second.stdout()).toBe(first.stdout());
    const verify = await session.tsbuild(['store', 'verify']);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(session.storeTemp()).toEqual([]);
  });

  it('a step another build is running is waited for and reused, not run twice', async () => {
    const context = join(session.dir, 'shared-step');
    // A random id: had the step run in both builds, their images would differ.
    writeTree(context, { Dockerfile: 'FROM busybox\nRUN sleep 2 && cat /proc/sys/kernel/random/uuid > /id\nRUN echo after > /after\n' });
    const first = cli(session.store, ['build', '--progress', 'json', context]);
    await first.waitFor(/"type":"step.start","time":\d+,"step":1/);
    const second = cli(session.store, ['build', '--progress', 'json', context]);
    const [a, b] = await Promise.all([first.exited, second.exited]);
    expect(a.code, first.stderr()).toBe(0);
    expect(b.code, second.stderr()).toBe(0);
    const events = (child: Child) => child.stderr().trim().split('\n').map((line) => JSON.parse(line) as { type: string; step?: number; data?: string; image?: { digest: string } });
    const [ran, waited] = [events(first), events(second)];
    expect(ran.filter((e) => e.step === 1).map((e) => e.type)).toEqual(['step.start', 'step.done']);
    expect(waited.filter((e) => e.step === 1 && e.type !== 'step.log').map((e) => e.type)).toEqual(['step.start', 'step.cached']);
    expect(waited.find((e) => e.type === 'step.log')?.data).toMatch(/^waiting for process \d+, which is running this same step\n$/);
    const image = (list: typeof ran) => list.find((e) => e.type === 'build.done')?.image?.digest;
    expect(image(waited)).toMatch(/^sha256:/);
    expect(image(waited)).toBe(image(ran));
    expect(session.storeTemp()).toEqual([]);
  });

  it('a prune while a build runs removes nothing the build uses', async () => {
    const context = join(session.dir, 'pruned');
    writeTree(context, { Dockerfile: 'FROM busybox\nRUN echo first > /first\nRUN sleep 1.5 && cat /first > /second\nRUN echo third > /third\n' });
    const build = cli(session.store, ['build', '--progress', 'json', '-t', 'pruned', context]);
    await build.waitFor(/"type":"step.start","time":\d+,"step":2/);
    const prune = cli(session.store, ['prune', '--all']);
    const [pruned, built] = await Promise.all([prune.exited, build.exited]);
    expect(pruned.code, prune.stderr()).toBe(0);
    expect(built.code, build.stderr()).toBe(0);
    const verify = await session.tsbuild(['store', 'verify']);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    const archive = join(session.dir, 'pruned.tar');
    const again = await session.tsbuild(['build', '-q', '-o', `type=oci,dest=${archive}`, context]);
    expect(again.status, again.stderr).toBe(0);
    expect((await session.list(archive)).listing.find((l: string) => l.startsWith('/second '))).toMatch(/ 6 sha256:/);
  });
});
