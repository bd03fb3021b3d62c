// Limits and outcomes: exit statuses and signals reported exactly, pids and memory limits
// stopping a fork bomb and a memory hog (and reported as such), a timeout that kills a step
// whose children ignore SIGTERM, 100 MiB of interleaved output streamed without loss, and
// nothing left on the host afterwards.

import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { sandboxHelperPath } from '../../src/exec/sandbox.js';
import { busyboxRootfs } from '../helpers/fixtures.js';
import { Scratch, buildNative, hostIsClean, hostTmpMounts, leftoverCgroups, modesToTest, processesMatching, rootMode, runStep, sh, stepSpec } from './harness.js';

buildNative();
const scratch = new Scratch();
const mountsBefore = hostTmpMounts();
afterAll(() => scratch.dispose());

const MiB = 1024 * 1024;

describe.each(modesToTest())('outcomes ($name)', (mode) => {
  it('reports exit statuses and signals exactly', async () => {
    for (const status of [0, 1, 42, 125, 126, 127, 250, 255]) {
      const r = await sh(scratch, mode, `exit ${status}`);
      expect(r.exitCode).toBe(status);
      expect(r.failure).toEqual(status === 0 ? undefined : { kind: 'exit', status });
    }
    for (const [name, number] of [['TERM', 15], ['KILL', 9], ['SEGV', 11], ['INT', 2]] as const) {
      const r = await sh(scratch, mode, `kill -${name} $$`);
      expect(r).toMatchObject({ exitCode: 128 + number, failure: { kind: 'signal', signal: number } });
    }
  });

  it('streams 100 MiB of interleaved stdout and stderr without loss, in order', async () => {
    const next = { o: 0, e: 0 };
    const partial = { o: '', e: '' };
    let bad = '';
    const check = (stream: 'o' | 'e') => (chunk: Buffer) => {
      const lines = (partial[stream] + chunk.toString('latin1')).split('\n');
      partial[stream] = lines.pop()!;
      for (const line of lines) {
        const expected = `${stream} ${String(next[stream]).padStart(9, '0')}`;
        if (line !== expected && bad === '') bad = `got '${line}', expected '${expected}'`;
        next[stream]++;
      }
    };
    const { runSandboxed } = await import('../../src/exec/sandbox.js');
    const result = await runSandboxed(
      stepSpec(scratch, mode, ['/probe', 'spew', '100']),
      { onStdout: check('o'), onStderr: check('e') },
      mode.run,
    );
    expect(result.exitCode).toBe(0);
    expect(bad).toBe('');
    const linesPerStream = Math.floor((100 * MiB) / 12 / 2);
    expect(next).toEqual({ o: linesPerStream, e: linesPerStream });
    expect(partial).toEqual({ o: '', e: '' });
  });

  it('kills every process of a step at the timeout, SIGTERM ignored and children included', async () => {
    const marker = String(80000 + Math.floor(Math.random() * 9999));
    const r = await sh(
      scratch,
      mode,
      `trap '' TERM; (trap '' TERM; sleep ${marker}1) & sleep ${marker}2 & setsid sleep ${marker}3 & sleep ${marker}4`,
      { limits: { timeoutSeconds: 0.5 } },
    );
    expect(r.failure).toEqual({ kind: 'timeout', seconds: 0.5 });
    expect(r.exitCode).toBe(251);
    expect(processesMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('kills daemons the command leaves behind when it exits', async () => {
    const marker = String(90000 + Math.floor(Math.random() * 9999));
    const r = await sh(scratch, mode, `setsid sleep ${marker} & echo started`);
    expect(r.exitCode).toBe(0);
    expect(processesMatching(`sleep ${marker}`)).toEqual([]);
  });
});

describe.each(modesToTest())('cgroup limits ($name)', (mode) => {
  // Rootless, the cgroup tree of this machine is not delegated: the limit must be refused
  // loudly, never silently skipped.
  const limitsApply = mode.name === 'root';

  it('stops a fork bomb at the pids limit and says so', async () => {
    const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'forkbomb'], { limits: { pids: 24 } }));
    if (!limitsApply) {
      expect(r.failure).toMatchObject({ kind: 'setup', message: expect.stringContaining('cannot apply --pids') });
      return;
    }
    expect(r.failure).toEqual({ kind: 'pids', limit: 24 });
    expect(r.exitCode).toBe(253);
    expect(r.stdout).toMatch(/^fork refused after 2\d: EAGAIN$/m);
  });

  it('stops a memory hog at the memory limit and says so', async () => {
    const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'memhog', '512'], { limits: { memoryBytes: 32 * MiB } }));
    if (!limitsApply) {
      expect(r.failure).toMatchObject({ kind: 'setup', message: expect.stringContaining('cannot apply --memory') });
      return;
    }
    expect(r.failure).toEqual({ kind: 'oom', limitBytes: 32 * MiB });
    expect(r.exitCode).toBe(252);
    expect(r.stdout).not.toContain('survived');
  });

  it('lets a step under its memory limit finish normally', async () => {
    if (!limitsApply) return;
    const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'memhog', '8'], { limits: { memoryBytes: 64 * MiB } }));
    expect(r.failure).toBeUndefined();
    expect(r.stdout).toBe('survived 8 MiB\n');
  });

  it('pins to a cpuset and applies a CPU quota', async () => {
    const r = await sh(scratch, mode, 'grep Cpus_allowed_list /proc/self/status', { limits: { cpuset: '0', cpus: 0.5 } });
    if (!limitsApply) {
      expect(r.failure?.kind).toBe('setup');
      return;
    }
    expect(r.failure).toBeUndefined();
    expect(r.stdout).toMatch(/^Cpus_allowed_list:\s+0$/m);
  });
});

describe('when the caller or the helper dies', () => {
  const waitFor = async (check: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end && !check(); ) await new Promise((r) => setTimeout(r, 50));
    return check();
  };
  /** The step's `sleep MARKER` processes (not the shells whose scripts mention them). */
  const sleepers = (marker: string) => processesMatching(`sleep ${marker}`).filter((l) => l.endsWith(`: sleep ${marker}`));
  const stepArgs = (marker: string) => {
    const { upperDir, workDir } = scratch.stepDirs(rootMode);
    return ['--lower', busyboxRootfs(), '--upper', upperDir, '--work', workDir, '--pids', '50', '--setenv', 'PATH', '/bin',
      '--', '/bin/sh', '-c', `trap '' TERM; sleep ${marker} & sleep ${marker}; wait`];
  };

  it('a killed caller stops the step and its cgroup is removed', async () => {
    const marker = String(60000 + Math.floor(Math.random() * 9999));
    const caller = spawn('sh', ['-c', `"$0" "$@" & wait`, sandboxHelperPath(), ...stepArgs(marker)], { stdio: 'ignore' });
    expect(await waitFor(() => sleepers(marker).length === 2, 5000)).toBe(true);
    caller.kill('SIGKILL');
    expect(await waitFor(() => sleepers(marker).length === 0, 3000)).toBe(true);
    expect(await waitFor(() => leftoverCgroups().length === 0, 2000)).toBe(true);
  });

  it('a killed helper takes the whole step with it', async () => {
    const marker = String(50000 + Math.floor(Math.random() * 9999));
    const helper = spawn(sandboxHelperPath(), stepArgs(marker).filter((a, i, all) => a !== '--pids' && all[i - 1] !== '--pids'), { stdio: 'ignore' });
    expect(await waitFor(() => sleepers(marker).length === 2, 5000)).toBe(true);
    helper.kill('SIGKILL');
    expect(await waitFor(() => sleepers(marker).length === 0, 3000)).toBe(true);
  });
});

describe('the host afterwards', () => {
  it('has no leftover mounts, cgroups or step processes', () => {
    expect(hostIsClean(mountsBefore)).toEqual({ mounts: [], cgroups: [], inits: [] });
  });
});
