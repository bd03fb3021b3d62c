// The pure halves of runSandboxed: SandboxSpec → helper argv, and helper status → StepFailure.

import { describe, expect, it } from 'vitest';
import { sandboxArgv, sandboxEnvPayload } from '../../src/exec/sandbox-args.js';
import { HelperExit, outcomeFromStatus } from '../../src/exec/sandbox-status.js';
import type { SandboxSpec } from '../../src/exec/types.js';

describe('sandboxArgv', () => {
  it('turns every field of a spec into bubblewrap-style options, the command after --', () => {
    const spec: SandboxSpec = {
      lowerDirs: ['/l/base', '/l/top'],
      upperDir: '/s/upper',
      workDir: '/s/work',
      argv: ['/bin/sh', '-c', 'echo "$A"'],
      env: ['PATH=/bin', 'A=x=y'],
      cwd: '/app/../srv/',
      uid: 1000,
      gid: 1001,
      groups: [27, 100],
      hostname: 'box',
      network: 'host',
      mounts: [
        { type: 'bind', source: '/h/cache', target: '/root/.cache' },
        { type: 'bind', source: '/h/secret', target: '/run/secret', readonly: true },
        { type: 'tmpfs', target: '/tmp//x/' },
      ],
      limits: { memoryBytes: 536870912, pids: 100, cpus: 1.5, cpuset: '0-1', timeoutSeconds: 30 },
    };
    const argv = sandboxArgv(spec);
    expect(argv).toEqual([
      '--lower', '/l/base', '--lower', '/l/top', '--upper', '/s/upper', '--work', '/s/work',
      '--bind', '/h/cache', '/root/.cache', '--ro-bind', '/h/secret', '/run/secret', '--tmpfs', '/tmp/x',
      '--hostname', 'box', '--uid', '1000', '--gid', '1001', '--groups', '27,100', '--chdir', '/srv',
      '--env-fd', '4', '--network', 'host',
      '--memory', '536870912', '--pids', '100', '--cpus', '1.5', '--cpuset', '0-1', '--timeout', '30',
      '--status-fd', '3', '--', '/bin/sh', '-c', 'echo "$A"',
    ]);
    // The environment goes on a pipe, so no value (a secret) shows in the host's process list.
    expect(argv.join(' ')).not.toContain('x=y');
    expect(sandboxEnvPayload(spec).toString()).toBe('PATH=/bin\0A=x=y\0');
  });

  it('passes the sandbox settings: each extra host, the /dev/shm size, each ulimit (-1 as unlimited)', () => {
    const argv = sandboxArgv({
      lowerDirs: [], upperDir: '/u', workDir: '/w', argv: ['true'], env: [], cwd: '/', uid: 0, gid: 0, network: 'none',
      extraHosts: [{ name: 'db', ip: '10.0.0.5' }, { name: 'db', ip: 'fd00::5' }],
      shmSizeBytes: 134217728,
      ulimits: [{ type: 'core', soft: 0, hard: -1 }, { type: 'nofile', soft: 1024, hard: 4096 }],
    });
    expect(argv.join(' ')).toBe([
      '--upper /u --work /w',
      '--add-host db 10.0.0.5 --add-host db fd00::5 --shm-size 134217728',
      '--uid 0 --gid 0 --chdir / --env-fd 4 --network none',
      '--ulimit core 0 unlimited --ulimit nofile 1024 4096',
      '--status-fd 3 -- true',
    ].join(' '));
  });

  it('refuses an environment entry without =', () => {
    expect(() =>
      sandboxEnvPayload({ lowerDirs: [], upperDir: '/u', workDir: '/w', argv: ['x'], env: ['NOVALUE'], cwd: '/', uid: 0, gid: 0, network: 'none' }),
    ).toThrow("environment entry 'NOVALUE' is not KEY=VALUE");
  });
});

describe('outcomeFromStatus', () => {
  it.each([
    ['exit 0\n', 0, { exitCode: 0 }],
    ['exit 3\n', 3, { exitCode: 3, failure: { kind: 'exit', status: 3 } }],
    ['exit 250\n', 250, { exitCode: 250, failure: { kind: 'exit', status: 250 } }],
    ['signal 9\n', 137, { exitCode: 137, failure: { kind: 'signal', signal: 9 } }],
    ['timeout 2.5\n', HelperExit.timeout, { exitCode: 251, failure: { kind: 'timeout', seconds: 2.5 } }],
    ['oom 1048576\n', HelperExit.oom, { exitCode: 252, failure: { kind: 'oom', limitBytes: 1048576 } }],
    ['pids 64\n', HelperExit.pids, { exitCode: 253, failure: { kind: 'pids', limit: 64 } }],
    ['setup --lower /x: No such file or directory\n', 250, { exitCode: 250, failure: { kind: 'setup', message: '--lower /x: No such file or directory' } }],
    ['setup exec /nope: No such file or directory\n', 127, { exitCode: 127, failure: { kind: 'setup', message: 'exec /nope: No such file or directory' } }],
  ] as const)('%j (status %d)', (line, code, expected) => {
    expect(outcomeFromStatus(line, code, null, '')).toEqual(expected);
  });

  it('explains a helper that died without a status line, with its last stderr line', () => {
    expect(outcomeFromStatus('', null, 'SIGKILL', 'a\nlast words\n')).toEqual({
      exitCode: 250,
      failure: { kind: 'setup', message: 'the sandbox helper was killed by SIGKILL without reporting a status: last words' },
    });
  });
});
