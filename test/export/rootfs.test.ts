// --output type=local and type=tar: the final root filesystem, with the layers applied in order
// (a file a later step deleted is gone), as a directory, a tarball, or a tarball on stdout.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { writeTree } from '../helpers/testdir.js';
import { openSession, type Session } from '../e2e/session.js';

describe('root filesystem outputs', () => {
  let session: Session;
  let work: string;
  let store: string;
  let context: string;

  beforeAll(async () => {
    session = await openSession();
    ({ dir: work, store } = session);
    context = join(work, 'context');
    writeTree(context, {
      greeting: 'hello from tsbuild\n',
      Dockerfile: 'FROM busybox\nCOPY greeting /etc/greeting\nRUN rm /etc/group && chmod 0600 /etc/greeting\n',
    });
  });
  afterAll(() => session.close());

  it('type=local writes the files, with deletions of later steps applied', async () => {
    const dest = join(work, 'rootfs');
    const built = await runCli(['build', '--root', store, '--progress', 'quiet', '-o', `type=local,dest=${dest}`, context]);
    expect(built.status, built.stderr).toBe(0);
    expect(readFileSync(join(dest, 'etc/greeting'), 'utf8')).toBe('hello from tsbuild\n');
    expect(statSync(join(dest, 'etc/greeting')).mode & 0o7777).toBe(0o600);
    expect(existsSync(join(dest, 'etc/group'))).toBe(false);
    expect(existsSync(join(dest, 'bin/busybox'))).toBe(true);
  });

  it('type=local refuses a directory that is not empty, leaving it as it was', async () => {
    const dest = join(work, 'occupied');
    mkdirSync(dest);
    writeFileSync(join(dest, 'mine'), 'keep');
    const built = await runCli(['build', '--root', store, '--progress', 'quiet', '-o', `type=local,dest=${dest}`, context]);
    expect(built.status).toBe(2);
    expect(built.stderr).toContain('is not empty');
    expect(readFileSync(join(dest, 'mine'), 'utf8')).toBe('keep');
  });

  it('type=tar writes the same tree as one tarball, and dest=- streams it to stdout', async () => {
    const dest = join(work, 'rootfs.tar');
    const built = await runCli(['build', '--root', store, '--progress', 'quiet', '-o', `type=tar,dest=${dest}`, context]);
    expect(built.status, built.stderr).toBe(0);
    const listing = execFileSync('tar', ['-tvf', dest], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rw------- 0\/0 +19 1970-01-01 00:00 etc\/greeting$/m);
    expect(listing).not.toMatch(/etc\/group$/m);
    const streamed = await runCli(['build', '--root', store, '--progress', 'quiet', '-o', 'type=tar,dest=-', context]);
    expect(streamed.status).toBe(0);
    expect(Buffer.byteLength(streamed.stdout, 'latin1')).toBeGreaterThan(0);
    expect(streamed.stdout).toContain('hello from tsbuild');
    expect(streamed.stdout).toContain('ustar');
  });

  it('type=docker reads with skopeo as a docker-archive, layers and all', async () => {
    const dest = join(work, 'docker.tar');
    expect((await runCli(['build', '--root', store, '--progress', 'quiet', '-t', 'rootfs-test:1', '-o', `type=docker,dest=${dest}`, context])).status).toBe(0);
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${dest}`], { encoding: 'utf8' }));
    expect(inspected.Layers).toHaveLength(3);
    execFileSync('skopeo', ['--insecure-policy', 'copy', `docker-archive:${dest}`, `oci:${join(work, 'copied')}:t`]);
    expect(existsSync(join(work, 'copied/index.json'))).toBe(true);
  });
});
