// Dockerfiles from stdin, as with docker build: `-f -` with a context, `build -` without one.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTree } from '../helpers/testdir.js';
import { openSession, type Session } from './session.js';

describe('tsbuild build with the Dockerfile on stdin', () => {
  let session: Session;
  beforeAll(async () => {
    session = await openSession();
  });
  afterAll(() => session.close());

  it('-f - reads the Dockerfile from stdin and the files from the context', async () => {
    const context = join(session.dir, 'with-context');
    writeTree(context, { 'greeting.txt': 'hello from the context\n', Dockerfile: 'FROM scratch\nCOPY missing.txt /\n' });
    const archive = join(session.dir, 'stdin.tar');
    const built = await session.tsbuild(['build', '-q', '-f', '-', '-o', `type=oci,dest=${archive}`, context], {
      stdin: 'FROM busybox\nCOPY greeting.txt /greeting.txt\n',
    });
    expect(built.status, built.stderr).toBe(0);
    expect((await session.list(archive)).listing.find((line: string) => line.startsWith('/greeting.txt '))).toMatch(/ 0644 0:0 23 /);
  });

  it('an error in a Dockerfile from stdin points at stdin:LINE:COL', async () => {
    const context = join(session.dir, 'bad');
    writeTree(context, { 'x.txt': 'x' });
    const failed = await session.tsbuild(['build', '-f', '-', context], { stdin: 'FROM busybox\nFROBNICATE now\n' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('stdin:2:1');
    expect(failed.stderr).toContain('>>> 2 | FROBNICATE now');
  });

  it('build - builds without a context: RUN works, COPY finds nothing', async () => {
    const ran = await session.tsbuild(['build', '-q', '-'], { stdin: 'FROM busybox\nRUN echo made here > /made\n' });
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const copied = await session.tsbuild(['build', '-'], { stdin: 'FROM busybox\nCOPY app.txt /\n' });
    expect(copied.status).toBe(1);
    expect(copied.stderr).toContain('app.txt');
  });

  it('refuses a context tarball on stdin, and - twice, with a usage error', async () => {
    const context = join(session.dir, 'tarred');
    writeTree(context, { Dockerfile: 'FROM busybox\n' });
    const tarball = execFileSync('tar', ['-czf', '-', '-C', context, '.']);
    const tarred = await session.tsbuild(['build', '-'], { stdin: tarball });
    expect(tarred.status).toBe(2);
    expect(tarred.stderr).toContain('stdin holds an archive');
    expect(tarred.stderr).not.toMatch(/\n\s+at /);
    const twice = await session.tsbuild(['build', '-f', '-', '-'], { stdin: 'FROM busybox\n' });
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain('`-f -` and the context `-` cannot be used together');
  });
});
