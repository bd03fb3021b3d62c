// What a step can see and do: nothing of the host's files, processes, network or kernel
// knobs, no capability beyond Docker's default set, not the helper itself. Every case runs
// as root and rootless (skipped with a printed reason where the kernel does not allow it).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxHelperPath } from '../../src/exec/sandbox.js';
import { busyboxRootfs } from '../helpers/fixtures.js';
import { SINGLE_ID_USER, Scratch, available, buildNative, hostIsClean, hostTmpMounts, rootlessMode, modesToTest, runStep, sh, stepSpec } from './harness.js';

buildNative();
const scratch = new Scratch();
const mountsBefore = hostTmpMounts();
const secret = `CANARY-${randomBytes(8).toString('hex')}`;
const canary = `${scratch.dir}/canary`;
writeFileSync(canary, `${secret}\n`, { mode: 0o644 });
afterAll(() => scratch.dispose());

/** Docker's default capabilities as a /proc/self/status mask. */
const DOCKER_DEFAULT_CAPS = 0xa80425fbn;

function capabilities(status: string): Record<string, bigint> {
  const caps: Record<string, bigint> = {};
  for (const match of status.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)) caps[match[1]!] = BigInt(`0x${match[2]}`);
  return caps;
}

describe.each(modesToTest())('isolation ($name)', (mode) => {
  it('keeps host files out of reach: by path, /proc/*/root, /proc/*/cwd, ..', async () => {
    const r = await sh(
      scratch,
      mode,
      `C=${canary}
       cat $C; cat /proc/1/root$C; cat /proc/self/root$C; cat /proc/self/cwd$C; cat /proc/1/cwd$C
       cd / && cat ../../../..$C; cd /tmp && cat ../..$C
       for p in /proc/[0-9]*; do cat $p/root$C $p/cwd$C; done
       ln -s $C /tmp/link && cat /tmp/link; ln -s ../../../../../..$C /tmp/rel && cat /tmp/rel
       ls ${busyboxRootfs()} ${scratch.dir}; ls /proc/1/root/
       echo done`,
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stdout).toContain('done');
    expect(r.stdout + r.stderr).not.toContain('canary\n');
  });

  it('leaks no host descriptor, and a WORKDIR through /proc/self/fd reaches nothing (CVE-2024-21626)', async () => {
    const fds = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'fds']));
    expect(fds.stdout).toBe('0\n1\n2\n');
    for (const n of [3, 4, 5, 6, 7, 8]) {
      const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'cwd'], { cwd: `/proc/self/fd/${n}` }));
      expect(r.failure?.kind, `cwd /proc/self/fd/${n}: ${r.stdout}`).toBe('setup');
      expect(r.stdout).toBe('');
    }
  });

  it('shows only the step processes and its own hostname', async () => {
    const marker = String(70000 + Math.floor(Math.random() * 9999));
    const host: ChildProcess = spawn('sleep', [marker], { stdio: 'ignore' });
    try {
      const r = await sh(scratch, mode, `ps -o pid,args; echo; ls -d /proc/[0-9]* | wc -l; uname -n`, {
        hostname: 'stepbox',
      });
      expect(r.stdout).not.toContain(marker);
      const lines = r.stdout.trim().split('\n');
      expect(lines.at(-1)).toBe('stepbox');
      expect(Number(lines.at(-2))).toBeLessThanOrEqual(4);
      expect(lines[1]).toMatch(/^\s*1 tsbuild-init\s*$/);
      expect(hostname()).not.toBe('stepbox');
    } finally {
      host.kill();
    }
  });

  describe('network', () => {
    let server: Server;
    let port = 0;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections++;
        socket.end();
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => server.close());

    it('none: a listener on the host loopback is unreachable, the own loopback is up', async () => {
      const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'connect', '127.0.0.1', String(port)]));
      expect(r.stdout).toBe('ECONNREFUSED\n');
      expect(connections).toBe(0);
    });

    it('a unix socket bind-mounted read-only (a forwarded ssh agent) answers, with no network, to the ids its mode allows', async () => {
      const path = join(scratch.mkdir(`unix-${mode.name}`), 'agent.sock');
      const agent = createServer((socket) => socket.once('data', (data) => socket.end(`pong ${data}\n`)));
      await new Promise<void>((done) => agent.listen(path, done));
      try {
        // Owned by the user the sandbox maps to root inside, as tsbuild makes its forwarding sockets.
        chownSync(path, mode.uid, mode.gid);
        chmodSync(path, 0o600);
        const mounts = [...stepSpec(scratch, mode, []).mounts!, { type: 'bind' as const, source: path, target: '/run/agent.sock', readonly: true }];
        const asRoot = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'unix', '/run/agent.sock'], { mounts }));
        expect(asRoot.stdout, asRoot.stderr).toBe('pong ping\n');
        const asNobody = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'unix', '/run/agent.sock'], { mounts, uid: 65534, gid: 65534 }));
        expect(asNobody.stdout, asNobody.stderr).toBe('EACCES\n');
      } finally {
        agent.close();
      }
    });

    it('host: the same listener is reachable (the check above can fail)', async () => {
      const r = await runStep(
        mode,
        stepSpec(scratch, mode, ['/probe', 'connect', '127.0.0.1', String(port)], { network: 'host' }),
      );
      expect(r.stdout).toBe('connected\n');
      expect(connections).toBe(1);
    });
  });

  it('refuses mount, umount, unshare, setns, ptrace, reboot, modules, keyrings, bpf, perf, nested namespaces', async () => {
    const ops = [
      'mount', 'mount-cgroup', 'mount-proc', 'umount', 'unshare-user', 'unshare-mount', 'clone-user', 'setns',
      'ptrace-init', 'reboot', 'init_module', 'finit_module', 'delete_module', 'keyctl', 'add_key', 'bpf',
      'perf_event_open', 'userfaultfd', 'open_by_handle_at', 'kexec_load', 'pivot_root', 'sethostname',
    ];
    const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'try', ...ops]));
    expect(r.stdout.trim().split('\n')).toEqual(ops.map((op) => `${op} EPERM`));
  });

  it('runs threaded programs: clone3 is refused with ENOSYS and libc falls back to clone', async () => {
    const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'threads']));
    expect(r.stdout).toBe('threads ok\n');
  });

  it("has no capability beyond Docker's default set, no_new_privs and a seccomp filter", async () => {
    const asRoot = await sh(scratch, mode, 'cat /proc/self/status');
    const caps = capabilities(asRoot.stdout);
    expect(caps.CapEff).toBe(DOCKER_DEFAULT_CAPS);
    for (const set of ['CapPrm', 'CapBnd', 'CapInh', 'CapAmb']) expect(caps[set]! & ~DOCKER_DEFAULT_CAPS, set).toBe(0n);
    expect(caps.CapInh).toBe(0n);
    expect(asRoot.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(asRoot.stdout).toMatch(/^Seccomp:\s+2$/m);
    const asUser = await sh(scratch, mode, 'cat /proc/self/status', { uid: 1000, gid: 1000 });
    expect(capabilities(asUser.stdout).CapEff).toBe(0n);
    expect(capabilities(asUser.stdout).CapPrm).toBe(0n);
  });

  it('does not expose the helper binary (CVE-2019-5736) or host paths through PID 1', async () => {
    const helper = sandboxHelperPath();
    const r = await sh(
      scratch,
      mode,
      `readlink /proc/1/exe && echo READABLE-LINK
       cat /proc/1/exe >/dev/null && echo READABLE-EXE
       echo x >> /proc/1/exe && echo WRITABLE-EXE
       cat /proc/1/environ && echo READABLE-ENV
       ls ${helper} && echo VISIBLE
       cat /proc/1/cmdline | tr '\\0' ' '; echo`,
    );
    for (const leak of ['READABLE-LINK', 'READABLE-EXE', 'WRITABLE-EXE', 'READABLE-ENV', 'VISIBLE']) {
      expect(r.stdout).not.toContain(leak);
    }
    expect(r.stdout + r.stderr).not.toContain(scratch.dir);
    expect(r.stdout.trim()).toBe('tsbuild-init');
  });

  it("cannot open a device node it makes for the host's disk, anywhere it can write", async () => {
    const dev = statSync('/').dev;
    const [major, minor] = [(dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00)];
    const shared = scratch.mkdir(`devices-${mode.name}`, mode);
    const r = await sh(
      scratch,
      mode,
      `for p in /tmp/disk /mnt/disk /dev/shm/disk /dev/disk; do mknod $p b ${major} ${minor} 2>/dev/null; head -c 512 $p 2>/dev/null | wc -c; done`,
      { mounts: [{ type: 'bind', source: shared, target: '/mnt' }] },
    );
    expect(r.stdout).toBe('0\n0\n0\n0\n');
  });

  it('mounts a read-only /sys showing only the step network devices, /sys/firmware masked', async () => {
    const r = await sh(scratch, mode, 'ls /sys/class/net; echo 1 > /sys/kernel/mm/ksm/run && echo WROTE; ls /sys/firmware | wc -l');
    expect(r.stdout).toBe('lo\n0\n');
    expect(r.stderr).toContain('Read-only file system');
  });

  it('gives fixed rlimits, not the caller\'s: 1024 open files, no core dumps', async () => {
    const r = await sh(scratch, mode, 'ulimit -n; ulimit -c');
    expect(r.stdout).toBe('1024\n0\n');
  });

  it('keeps /proc/sys and /proc/sysrq-trigger read-only and masks /proc/keys', async () => {
    const r = await sh(
      scratch,
      mode,
      `echo 1 > /proc/sys/vm/drop_caches && echo WROTE-SYS
       echo h > /proc/sysrq-trigger && echo WROTE-SYSRQ
       wc -c < /proc/keys`,
    );
    expect(r.stdout).not.toContain('WROTE');
    expect(r.stderr).toContain('/proc/sys/vm/drop_caches: Read-only file system');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0');
  });
});

describe.each(available(rootlessMode(SINGLE_ID_USER, true), 'single-id rootless'))('rootless without subordinate ids', (mode) => {
  it('maps only root inside to the user outside, with setgroups denied', async () => {
    const r = await sh(scratch, mode, 'cat /proc/self/uid_map /proc/self/setgroups; id -u');
    expect(r.stdout.trim().split(/\s+/)).toEqual(['0', String(mode.uid), '1', 'deny', '0']);
  });

  it('refuses a --uid or --groups it cannot map, instead of running as someone else', async () => {
    const asUser = await sh(scratch, mode, 'id', { uid: 1000, gid: 1000 });
    expect(asUser.failure).toMatchObject({ kind: 'setup', message: expect.stringContaining('--gid 1000') });
    const withGroups = await sh(scratch, mode, 'id', { groups: [27] });
    expect(withGroups.failure).toMatchObject({ kind: 'setup', message: expect.stringContaining('--groups') });
    expect(asUser.stdout + withGroups.stdout).toBe('');
  });
});

describe('the host afterwards', () => {
  it('has no leftover mounts, cgroups or step processes', () => {
    expect(hostIsClean(mountsBefore)).toEqual({ mounts: [], cgroups: [], inits: [] });
  });
});
