// The settings a build gives every RUN step's sandbox: --add-host lines in /etc/hosts, the
// /dev/shm size, and --ulimit resource limits set just before the command runs, a refused one
// failing the step with a message that says why. Every case runs as root and rootless.

import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Scratch, buildNative, hostIsClean, hostTmpMounts, modesToTest, sh } from './harness.js';

buildNative();
const scratch = new Scratch();
const mountsBefore = hostTmpMounts();
afterAll(() => scratch.dispose());

const MiB = 1024 * 1024;

/** This process's hard limit of open files, which the helper inherits, and the kernel's ceiling. */
function nofileCeilings(): { own: number; kernel: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
  return { own: Number(line.trim().split(/\s+/)[4]), kernel: Number(readFileSync('/proc/sys/fs/nr_open', 'utf8')) };
}

/** Whether this process may raise hard limits (a container's root may lack it). */
function hasSysResource(): boolean {
  const effective = /^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  const CAP_SYS_RESOURCE = 24n;
  return ((BigInt(`0x${effective}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

describe.each(modesToTest())('step settings ($name)', (mode) => {
  it('appends each --add-host to /etc/hosts after localhost and the hostname, in the order given', async () => {
    const extraHosts = [{ name: 'db.internal', ip: '10.0.0.5' }, { name: 'db.internal', ip: 'fd00::5' }, { name: 'cache_1', ip: '127.0.0.2' }];
    const r = await sh(scratch, mode, 'cat /etc/hosts', { extraHosts });
    expect(r.failure, r.stderr).toBeUndefined();
    expect(r.stdout).toBe('127.0.0.1\tlocalhost tsbuild\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
      '10.0.0.5\tdb.internal\nfd00::5\tdb.internal\n127.0.0.2\tcache_1\n');
  });

  it('sizes /dev/shm: 64 MiB by default, as Docker, or --shm-size, and a write beyond it fails', async () => {
    const shm = "grep ' /dev/shm ' /proc/mounts | cut -d' ' -f4";
    // Rootless, the kernel adds the owner (uid=, gid=) of a tmpfs made in a user namespace.
    expect((await sh(scratch, mode, shm)).stdout).toMatch(/^rw,nosuid,nodev,noexec,relatime,size=65536k(,uid=\d+,gid=\d+)?\n$/);
    const r = await sh(scratch, mode, `${shm}; dd if=/dev/zero of=/dev/shm/fill bs=1M count=9 2>&1 | grep -c 'No space left'`,
      { shmSizeBytes: 8 * MiB });
    expect(r.stdout).toMatch(/^rw,nosuid,nodev,noexec,relatime,size=8192k(,uid=\d+,gid=\d+)?\n1\n$/);
  });

  it('sets each --ulimit for the command, a later one of a type winning, the other defaults kept', async () => {
    const ulimits = [
      { type: 'nofile', soft: 50, hard: 60 },
      { type: 'nofile', soft: 100, hard: 200 },
      { type: 'nproc', soft: 300, hard: 400 },
      { type: 'fsize', soft: 1024 * 1024, hard: -1 },
    ] as const;
    const r = await sh(scratch, mode, 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -f; ulimit -Hf; ulimit -c', { ulimits: [...ulimits] });
    expect(r.failure, r.stderr).toBeUndefined();
    // busybox prints file sizes in 512-byte blocks; core stays at the default, none.
    expect(r.stdout.split('\n')).toEqual(['100', '200', '300', '400', '2048', 'unlimited', '0', '']);
  });

  it('raises a hard limit above its own only with CAP_SYS_RESOURCE on the host; else the step fails saying why', async () => {
    const { own, kernel } = nofileCeilings();
    if (own >= kernel) return; // nothing above this process's limit to ask for
    const r = await sh(scratch, mode, 'ulimit -Hn', { ulimits: [{ type: 'nofile', soft: 1024, hard: kernel }] });
    if (mode.name === 'root' && hasSysResource()) {
      expect(r.failure, r.stderr).toBeUndefined();
      expect(r.stdout).toBe(`${kernel}\n`);
      return;
    }
    expect(r.exitCode).toBe(250);
    expect(r.failure).toEqual({
      kind: 'setup',
      message: `--ulimit nofile: the hard limit ${kernel} is above this sandbox's own (${own}); raising a hard limit needs CAP_SYS_RESOURCE on the host (root; never rootless)`,
    });
  });

  it('refuses nofile above the kernel ceiling, naming it', async () => {
    const { kernel } = nofileCeilings();
    const r = await sh(scratch, mode, 'true', { ulimits: [{ type: 'nofile', soft: 1024, hard: kernel + 1 }] });
    expect(r.exitCode).toBe(250);
    expect(r.failure).toEqual({
      kind: 'setup',
      message: `--ulimit nofile: the hard limit ${kernel + 1} is above the kernel's ceiling, /proc/sys/fs/nr_open (${kernel})`,
    });
  });
});

describe('the host afterwards', () => {
  it('has no leftover mounts, cgroups or step processes', () => {
    expect(hostIsClean(mountsBefore)).toEqual({ mounts: [], cgroups: [], inits: [] });
  });
});
