// The docker output loads where users take images: `docker load` into a real dockerd (Debian's
// docker.io, started on a private socket with no bridge and no iptables) and runs there, and
// `podman load` reads it too.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerdUnavailable, useDockerd } from '../helpers/dockerd.js';
import { writeTree } from '../helpers/testdir.js';
import { openSession, type Session } from '../e2e/session.js';

const PODMAN = '/usr/bin/podman';
const noDockerd = dockerdUnavailable();
if (noDockerd) console.log(`load-tools: docker skipped: ${noDockerd}`);
if (!existsSync(PODMAN)) console.log(`load-tools: podman skipped: ${PODMAN} missing (scripts/setup.sh installs it)`);

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

  describe.skipIf(noDockerd)('docker', () => {
    const dockerd = useDockerd();

    it('loads with docker load and runs its CMD', () => {
      expect(dockerd().docker('load', '-i', archive)).toContain('tsbuild-load-test:1');
      expect(dockerd().docker('run', '--rm', '--network', 'none', 'tsbuild-load-test:1')).toBe('hello from a tsbuild image\n');
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
