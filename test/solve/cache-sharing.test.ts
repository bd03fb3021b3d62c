// RUN --mount=type=cache,sharing=…: two stages that run side by side use one cache id. Each
// step claims the cache with `mkdir /c/busy` (which fails when the dir exists), holds it for a
// second and gives it back: with `shared` the claims collide (the premise: the stages overlap),
// with `locked` the second waits, with `private` the second gets a dir of its own.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { runCli } from '../helpers/run-cli.js';
import { testdir } from '../helpers/testdir.js';

let work: string;
let store: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-sharing-'));
  store = join(work, 'store');
  const loaded = await runCli(['load', '--root', store, '-t', 'busybox:latest', await busyboxImageLayout()]);
  expect(loaded.status, loaded.stderr).toBe(0);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

function twoClaims(id: string, sharing: string): string {
  const claim = (name: string) =>
    `RUN --mount=type=cache,id=${id},target=/c,sharing=${sharing} sh -c 'mkdir /c/busy && sleep 1 && rmdir /c/busy && echo ${name} > /${name}'`;
  return ['FROM busybox AS a', claim('a'), 'FROM busybox AS b', claim('b'), 'FROM busybox', 'COPY --from=a /a /', 'COPY --from=b /b /', ''].join('\n');
}

const build = (dockerfile: string) => runCli(['build', '--root', store, '--progress', 'plain', testdir({ Dockerfile: dockerfile })]);

describe('cache mount sharing', () => {
  it('shared: two steps that run side by side see one dir (the premise of the other cases)', async () => {
    const result = await build(twoClaims('sharing-shared', 'shared'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/mkdir: can't create directory '\/c\/busy': File exists/);
  });

  it('locked: the second step waits for the first', async () => {
    const result = await build(twoClaims('sharing-locked', 'locked'));
    expect(result.status, result.stderr).toBe(0);
  });

  it('a cache outlives the build: another recipe mounting the same id elsewhere finds its files', async () => {
    const first = await build('FROM busybox\nRUN --mount=type=cache,id=outlives,target=/c,uid=1000,mode=0700 echo kept > /c/file\n');
    expect(first.status, first.stderr).toBe(0);
    const second = await build('FROM busybox\nRUN --mount=type=cache,id=outlives,target=/elsewhere cat /elsewhere/file > /got && test "$(cat /got)" = kept\n');
    expect(second.status, second.stderr).toBe(0);
  });

  it('private: the second step gets a dir of its own while the first holds the cache', async () => {
    const result = await build(twoClaims('sharing-private', 'private'));
    expect(result.status, result.stderr).toBe(0);
  });
});
