// runSandboxed with the real helper: the basic contract the engine relies on.

import { mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/errors.js';
import { runSandboxed } from '../../src/exec/sandbox.js';
import type { SandboxSpec } from '../../src/exec/types.js';
import { busyboxRootfs } from '../helpers/fixtures.js';
import { buildNative } from '../sandbox/harness.js';

buildNative();

const scratch = mkdtempSync(join(tmpdir(), 'tsbuild-sandbox-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function spec(script: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  const dir = join(scratch, String(counter++));
  mkdirSync(join(dir, 'upper'), { recursive: true });
  mkdirSync(join(dir, 'work'));
  return {
    lowerDirs: [busyboxRootfs()],
    upperDir: join(dir, 'upper'),
    workDir: join(dir, 'work'),
    argv: ['/bin/sh', '-c', script],
    env: ['PATH=/bin:/usr/bin', 'HOME=/root'],
    cwd: '/',
    uid: 0,
    gid: 0,
    network: 'none',
    ...extra,
  };
}

async function run(s: SandboxSpec) {
  let stdout = '';
  let stderr = '';
  const result = await runSandboxed(s, {
    onStdout: (c) => (stdout += c.toString()),
    onStderr: (c) => (stderr += c.toString()),
  });
  return { ...result, stdout, stderr };
}

describe('runSandboxed', () => {
  it('runs a command over the overlay and writes only to the upper dir', async () => {
    const s = spec('echo out; echo err >&2; echo data > /made-here');
    const r = await run(s);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(r.failure).toBeUndefined();
    expect(readdirSync(s.upperDir)).toEqual(['made-here']);
  });

  it('passes exactly the given environment, cwd (created), uid, gid and groups', async () => {
    const s = spec('env | sort; pwd; id -u; id -g; id -G', {
      env: ['PATH=/bin', 'A=1 2'],
      cwd: '/work/dir',
      uid: 1000,
      gid: 1001,
      groups: [1001, 27],
    });
    const r = await run(s);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('A=1 2\nPATH=/bin\nPWD=/work/dir\nSHLVL=1\n/work/dir\n1000\n1001\n1001 27\n');
  });

  it('reports the exit status and signals exactly', async () => {
    expect((await run(spec('exit 7'))).failure).toEqual({ kind: 'exit', status: 7 });
    const killed = await run(spec('kill -KILL $$'));
    expect(killed).toMatchObject({ exitCode: 137, failure: { kind: 'signal', signal: 9 } });
  });

  it('tells a setup failure from the same exit status of the command', async () => {
    const own = await run(spec('exit 250'));
    expect(own.failure).toEqual({ kind: 'exit', status: 250 });
    const missing = await run({ ...spec('true'), lowerDirs: [join(scratch, 'does-not-exist')] });
    expect(missing.failure?.kind).toBe('setup');
    expect(missing.failure).toMatchObject({ message: expect.stringContaining('does-not-exist') });
    const notFound = await run({ ...spec('true'), argv: ['/no/such/command'] });
    expect(notFound).toMatchObject({ exitCode: 127, failure: { kind: 'setup' } });
  });

  it('uses its own hostname and no network by default', async () => {
    const r = await run(spec('hostname; ls /sys/class/net 2>/dev/null || cat /proc/net/dev | tail -n +3 | cut -d: -f1', { hostname: 'stepbox' }));
    expect(r.stdout.split('\n')[0]).toBe('stepbox');
    expect(r.stdout.trim().split(/\s+/).slice(1)).toEqual(['lo']);
  });

  it('kills the whole step when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = runSandboxed(spec('trap "" TERM; sleep 30 & sleep 30; wait'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(2500);
  });
});
