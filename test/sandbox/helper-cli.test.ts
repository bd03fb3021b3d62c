// The helper's own interface: --help and --version, every validation rule failing with a
// message that names the option and status 250 (also on --status-fd), --root mode, and the
// build's message when no compiler is installed.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxHelperPath } from '../../src/exec/sandbox.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { PROBE, Scratch, buildNative } from './harness.js';

buildNative();
const scratch = new Scratch();
afterAll(() => scratch.dispose());

function helper(args: string[]) {
  const r = spawnSync(sandboxHelperPath(), ['--status-fd', '3', ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.output[1] ?? '', stderr: r.output[2] ?? '', statusLine: r.output[3] ?? '' };
}

describe('tsbuild-sandbox command line', () => {
  it('documents every option in --help, and in native/README.md', () => {
    const help = spawnSync(sandboxHelperPath(), ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    const readme = spawnSync('cat', [resolve(REPO_ROOT, 'native/README.md')], { encoding: 'utf8' }).stdout;
    const options = ['--lower', '--upper', '--work', '--root', '--bind', '--ro-bind', '--tmpfs', '--hostname', '--uid', '--gid',
      '--groups', '--chdir', '--setenv', '--network', '--memory', '--pids', '--cpus', '--cpuset', '--timeout', '--status-fd',
      '--add-host', '--shm-size', '--ulimit'];
    for (const option of options) {
      expect(help.stdout, option).toContain(option);
      expect(readme, option).toContain(`\`${option}`);
    }
    expect(spawnSync(sandboxHelperPath(), ['--version'], { encoding: 'utf8' }).stdout).toMatch(/^tsbuild-sandbox \d+\.\d+\.\d+\n$/);
  });

  const root = ['--upper', '/nonexistent-u', '--work', '/nonexistent-w'];
  it.each([
    [['--bogus', '--', 'true'], "unknown option '--bogus'"],
    [[...root], 'no command given'],
    [['--upper', '/u', '--', 'true'], 'needs --upper DIR and --work DIR'],
    [['--root', '/', '--lower', '/', '--', 'true'], '--root cannot be combined with --lower'],
    [[...root, '--chdir', 'relative', '--', 'true'], "--chdir: 'relative' must be an absolute path"],
    [[...root, '--tmpfs', '/a/../b', '--', 'true'], "must not contain '.' or '..' components"],
    [[...root, '--memory', '12abc', '--', 'true'], "--memory: '12abc' is not a positive whole number"],
    [[...root, '--pids', '0', '--', 'true'], "--pids: '0' is not a positive whole number"],
    [[...root, '--network', 'bridge', '--', 'true'], "--network: 'bridge' is not one of none, host"],
    [[...root, '--setenv', 'A=B', 'x', '--', 'true'], "--setenv: 'A=B' is not a valid variable name"],
    [[...root, '--cpuset', 'all', '--', 'true'], "--cpuset: 'all' is not a CPU list"],
    [[...root, '--uid', '-1', '--', 'true'], "--uid: '-1' is not a numeric id"],
    [[...root, '--bind', '/x'], '--bind needs 2 arguments'],
    [[...root, '--add-host', 'db internal', '10.0.0.5', '--', 'true'], "--add-host: 'db internal' is not a host name"],
    [[...root, '--add-host', 'db\n10.0.0.6\tevil', '10.0.0.5', '--', 'true'], 'is not a host name'],
    [[...root, '--add-host', '-db', '10.0.0.5', '--', 'true'], "--add-host: '-db' is not a host name"],
    [[...root, '--add-host', 'db', '10.0.0', '--', 'true'], "--add-host db: '10.0.0' is not an IPv4 or IPv6 address"],
    [[...root, '--add-host', 'db', '[::1]', '--', 'true'], "--add-host db: '[::1]' is not an IPv4 or IPv6 address"],
    [[...root, '--shm-size', '0', '--', 'true'], "--shm-size: '0' is not a positive whole number"],
    [[...root, '--ulimit', 'files', '1', '2', '--', 'true'], "--ulimit: 'files' is not a limit type"],
    [[...root, '--ulimit', 'nofile', '-1', '2', '--', 'true'], "--ulimit nofile: '-1' is not a whole number or 'unlimited'"],
    [[...root, '--ulimit', 'nofile', '3', '2', '--', 'true'], '--ulimit nofile: the soft limit is above the hard limit'],
    [[...root, '--ulimit', 'nofile', 'unlimited', '2', '--', 'true'], '--ulimit nofile: the soft limit is above the hard limit'],
    [[...root, '--ulimit', 'nofile', '1'], '--ulimit needs 3 arguments'],
    [[...root, '--', 'true'], '--upper /nonexistent-u: No such file or directory'],
  ])('refuses %j with a message naming the problem', (args, message) => {
    const r = helper(args);
    expect(r.status).toBe(250);
    expect(r.stderr).toContain(message);
    expect(r.statusLine).toContain('setup ');
    expect(r.statusLine).toContain(message);
  });

  it('--root runs in a plain directory, making mount points there', () => {
    const dir = scratch.mkdir('plain-root');
    copyFileSync(PROBE, join(dir, 'probe'));
    const r = helper(['--root', dir, '--chdir', '/work', '--', '/probe', 'cwd']);
    expect(r).toMatchObject({ status: 0, stdout: '/work\n', statusLine: 'exit 0\n' });
    expect(readdirSync(dir).sort()).toEqual(['dev', 'etc', 'probe', 'proc', 'sys', 'work']);
    expect(readdirSync(join(dir, 'dev'))).toEqual([]);
  });

  it('the build says what to install when there is no C compiler', () => {
    const r = spawnSync('make', ['-s', '-C', resolve(REPO_ROOT, 'native'), 'CC=no-such-cc'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no C compiler (no-such-cc) found');
    expect(r.stderr).toContain('apt-get install gcc make libc6-dev');
    expect(existsSync(sandboxHelperPath())).toBe(true);
  });
});
