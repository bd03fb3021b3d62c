// The docker output loads where users take images: `docker load` into a real dockerd (Debian's
// docker.io, started on a private socket with no bridge and no iptables) and runs there, and
// `podman load` reads it too.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTree } from '../helpers/testdir.js';
import { openSession, type Session } from '../e2e/session.js';

const DOCKERD = '/usr/sbin/dockerd';
const DOCKER = '/usr/bin/docker';
const PODMAN = '/usr/bin/podman';
for (const [tool, path] of [['docker', DOCKERD], ['podman', PODMAN]]) {
  if (!existsSync(path!)) console.log(`load-tools: ${tool} skipped: ${path} missing (scripts/setup.sh installs it)`);
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (check()) return true;
  return check();
}

describe('type=docker output in docker and podman', () => {
  let session: Session;
  let work: string;
  let archive: string;

  beforeAll(async () => {
    session = await openSession();
    work = session.dir;
    const context = join(work, 'context');
    writeTree(context, { Dockerfile: 'FROM busybox\nRUN echo "hello from a tsbuild image" > /greeting\nCMD ["cat", "/greeting"]\n' });
    archive = join(work, 'image.tar');
    const built = await session.tsbuild(['build', '--progress', 'quiet', '-t', 'tsbuild-load-test:1', '-o', `type=docker,dest=${archive}`, context]);
    expect(built.status, built.stderr).toBe(0);
  });
  afterAll(() => session.close());

  describe.skipIf(!existsSync(DOCKERD))('docker', () => {
    let daemon: ChildProcess;
    let socket: string;
    const docker = (...args: string[]) => execFileSync(DOCKER, ['-H', `unix://${socket}`, ...args], { encoding: 'utf8' });

    beforeAll(async () => {
      const dir = mkdtempSync('/tmp/tsbuild-dockerd-');
      socket = join(dir, 'docker.sock');
      daemon = spawn(DOCKERD, [
        '--host', `unix://${socket}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
        '--pidfile', join(dir, 'docker.pid'), '--bridge=none', '--iptables=false', '--ip6tables=false',
      ], { stdio: 'ignore' });
      expect(await waitFor(() => existsSync(socket), 30_000)).toBe(true);
      expect(await waitFor(() => { try { docker('version'); return true; } catch { return false; } }, 30_000)).toBe(true);
      return async () => {
        daemon.kill('SIGTERM');
        await new Promise((r) => daemon.once('exit', r));
        rmSync(dir, { recursive: true, force: true });
      };
    }, 90_000);

    it('loads with docker load and runs its CMD', () => {
      expect(docker('load', '-i', archive)).toContain('tsbuild-load-test:1');
      expect(docker('run', '--rm', '--network', 'none', 'tsbuild-load-test:1')).toBe('hello from a tsbuild image\n');
    });
  });

  describe.skipIf(!existsSync(PODMAN))('podman', () => {
    it('loads with podman load', () => {
      const root = join(work, 'podman');
      const podman = (...args: string[]) => execFileSync(PODMAN, ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', ...args], { encoding: 'utf8' });
      podman('load', '-i', archive);
      expect(podman('images', '--format', '{{.Repository}}:{{.Tag}}')).toContain('docker.io/library/tsbuild-load-test:1');
    });
  });
});
