// What a user sees when a build cannot succeed: one clear error naming the Dockerfile line,
// exit status 1, no stack trace, and a store left as it was (no tag, no scratch dirs).

import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testdir } from '../helpers/testdir.js';
import { openSession, type Session } from './session.js';

describe('tsbuild build: failures', () => {
  let session: Session;

  beforeAll(async () => {
    session = await openSession();
  });
  afterAll(() => session.close());

  async function failingBuild(tree: Parameters<typeof testdir>[0], ...flags: string[]) {
    const context = testdir(tree);
    const result = await session.tsbuild(['build', '--progress', 'plain', '-t', 'broken', ...flags, context]);
    expect(result.status, result.stderr).toBe(1);
    // Printed once, by the progress renderer: the failure line, not main()'s error again.
    expect(result.stderr.match(/^(ERROR|error):/gm)).toEqual(['ERROR:']);
    expect(result.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
    expect((await session.tsbuild(['inspect', 'broken'])).status).not.toBe(0);
    expect(session.storeTemp()).toEqual([]);
    return result.stderr;
  }

  it('a base image that is not in the store', async () => {
    const stderr = await failingBuild({ Dockerfile: 'FROM busybox\nFROM nosuch/image:1.0\nRUN true\n' });
    expect(stderr).toContain('Dockerfile:2:1\n');
    expect(stderr).toContain('ERROR: base image "nosuch/image:1.0" is not in the store');
    expect(stderr).toContain('>>> 2 | FROM nosuch/image:1.0');
    expect(stderr).toMatch(/hint: load it first: tsbuild load/);
  });

  it('a COPY source that does not exist', async () => {
    const stderr = await failingBuild({ Dockerfile: 'FROM busybox\nCOPY missing.txt /\n', 'present.txt': 'x' });
    expect(stderr).toMatch(/^Dockerfile:2:1\n[^]*^ERROR: .*missing\.txt/m);
    expect(stderr).toContain('>>> 2 | COPY missing.txt /');
  });

  it('a COPY source outside the context, by .. or through a symlink', async () => {
    const dotdot = await failingBuild({ Dockerfile: 'FROM busybox\nCOPY ../outside.txt /\n' });
    expect(dotdot).toMatch(/^Dockerfile:2:1\n[^]*^ERROR: .*outside\.txt/m);
    const context = testdir({ Dockerfile: 'FROM busybox\nCOPY link /copied\n' });
    symlinkSync('/etc/hostname', join(context, 'link'));
    const result = await session.tsbuild(['build', '--progress', 'plain', '-t', 'broken', context]);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^Dockerfile:2:1\n[^]*^ERROR: .*link/m);
  });

  it('a RUN that fails: the step, its exit status, its last lines of output and the line', async () => {
    const stderr = await failingBuild({
      Dockerfile: 'FROM busybox\nRUN echo preparing && echo "something broke" >&2 && exit 3\nRUN echo never\n',
    });
    expect(stderr).toContain('Dockerfile:2:1\n');
    expect(stderr).toContain('ERROR: RUN echo preparing && echo "something broke" >&2 && exit 3 failed with exit status 3');
    expect(stderr).toContain('something broke');
    expect(stderr).toContain('>>> 2 | RUN echo preparing');
    expect(stderr).not.toMatch(/#\d+ .*RUN echo never\n#\d+ DONE/);
  });

  it('the first failure cancels a parallel stage that is still running', async () => {
    const started = Date.now();
    const stderr = await failingBuild({
      Dockerfile: 'FROM busybox AS slow\nRUN sleep 30\n\nFROM busybox AS bad\nRUN sleep 0.3; exit 7\n\nFROM busybox\nCOPY --from=slow / /a\nCOPY --from=bad / /b\n',
    });
    expect(stderr).toContain('failed with exit status 7');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('an unknown --target fails the build (exit 1) naming the stage', async () => {
    const context = testdir({ Dockerfile: 'FROM busybox AS base\nRUN true\n' });
    const result = await session.tsbuild(['build', '--progress', 'plain', '--target', 'nosuchstage', context]);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^ERROR: .*nosuchstage/m);
    expect(session.storeTemp()).toEqual([]);
  });

  it('a --build-arg the recipe never uses is a warning, not a failure', async () => {
    const context = testdir({ Dockerfile: 'FROM busybox\nARG USED\nRUN echo $USED\n' });
    const result = await session.tsbuild(['build', '--progress', 'plain', '--build-arg', 'USED=1', '--build-arg', 'TYPO=2', context]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/TYPO/);
    expect(result.stderr).toMatch(/warn/i);
  });

  it('RUN for another architecture says it needs emulation', async () => {
    const other = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const stderr = await failingBuild({ Dockerfile: 'FROM busybox\nRUN true\n' }, '--platform', other);
    expect(stderr).toContain(`RUN for ${other} cannot run on this`);
  });

  it('ADD of a URL with --network none says why and what to do', async () => {
    const stderr = await failingBuild({ Dockerfile: 'FROM busybox\nADD https://example.com/file.txt /\n' });
    expect(stderr).toContain('needs the network, and this build runs with --network none');
  });

  it('a usage error exits 2: an --output type that does not exist', async () => {
    const context = testdir({ Dockerfile: 'FROM busybox\n' });
    const result = await session.tsbuild(['build', '-o', 'type=nope,dest=x', context]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unsupported --output type "nope"');
  });
});
