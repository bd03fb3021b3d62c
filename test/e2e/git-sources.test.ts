// Git sources, as `docker buildx build` has them, against a real git smart-HTTP server on
// 127.0.0.1 (test/helpers/git-server.ts): a git URL as the build's CONTEXT, as a named
// context, and in `ADD <git url> <dest>`, keyed by the commit its ref names, so a cache hit
// fetches nothing and a new commit on the branch runs the step again.

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { startGitServer, TestRepo, type GitServer } from '../helpers/git-server.js';
import { provenanceDependencies } from '../helpers/archive-json.js';
import { usePrivateTmpdir, writeTree } from '../helpers/testdir.js';
import { openSession, stepOutcomes, type Session } from './session.js';

describe('git sources', () => {
  let session: Session;
  let server: GitServer;
  let repo: TestRepo;
  let v1: string;
  let url: string;
  beforeAll(async () => {
    session = await openSession();
    server = await startGitServer(join(session.dir, 'served'));
    repo = TestRepo.create(join(session.dir, 'work'));
    v1 = repo.commit({
      'app/Dockerfile': 'FROM busybox\nCOPY . /app/\nRUN cat /app/hello.txt > /copied\n',
      'app/hello.txt': 'hello from git\n',
      'app/ignored.txt': 'left out by .dockerignore\n',
      'app/.dockerignore': 'ignored.txt\n',
      'app/run.sh': { file: '#!/bin/sh\necho run\n', mode: 0o755 },
      'lib/version.txt': '1\n',
      // A repository's Dockerfile that points at a host file: never read.
      'escape/Dockerfile': { symlink: '/etc/hostname' },
    });
    repo.tag('v1', 'release 1');
    server.publish(repo, 'repo');
    url = server.url('repo');
  });
  afterAll(async () => {
    await server.close();
    session.close();
  });
  // The leftover check looks at this file's builds only (git-checkout's repositories may be there).
  usePrivateTmpdir('tsbuild-git-e2e-');

  /** Builds into an OCI archive; the image's files, one line each, and the digest -q printed. */
  async function buildImage(name: string, args: string[]) {
    const archive = join(session.dir, `${name}.tar`);
    const built = await session.tsbuild(['build', '-q', '-o', `type=oci,dest=${archive}`, ...args]);
    expect(built.status, built.stderr).toBe(0);
    expect(session.storeTemp()).toEqual([]);
    return { digest: built.stdout.trim(), ...(await session.list(archive)) };
  }

  function dockerfile(name: string, text: string): string {
    const dir = join(session.dir, name);
    writeTree(dir, { Dockerfile: text });
    return dir;
  }

  const paths = (listing: string[]) => listing.map((line) => line.split(' ')[0]!);

  it('builds from a git context #ref:subdir, with the subdir .dockerignore and without .git', async () => {
    const { listing, config } = await buildImage('context', [`${url}#main:app`]);
    expect(listing.find((line: string) => line.startsWith('/app/hello.txt '))).toMatch(/ 0644 0:0 15 /);
    expect(listing.find((line: string) => line.startsWith('/app/run.sh '))).toMatch(/ 0755 0:0 /);
    expect(listing.find((line: string) => line.startsWith('/copied '))).toMatch(/ 15 /);
    expect(paths(listing)).not.toContain('/app/ignored.txt');
    expect(paths(listing).some((path) => path.includes('.git'))).toBe(false);
    expect(JSON.stringify(config)).not.toContain('git-context');
  });

  it('shows each checkout as a transfer, done with the size of what was checked out', async () => {
    const built = await session.tsbuild(['build', '--progress', 'json', `${url}#main:app`]);
    expect(built.status, built.stderr).toBe(0);
    const transfers = built.stderr.split('\n').filter((line) => line.includes('"type":"transfer"')).map((line) => JSON.parse(line) as { id: string; label: string; current: number; done?: boolean });
    const git = transfers.filter((t) => t.id.startsWith('git:'));
    expect(git[0]).toMatchObject({ label: expect.stringContaining(`fetching ${url}`), current: 0 });
    expect(git.at(-1)).toMatchObject({ done: true, current: expect.any(Number) });
    expect(git.at(-1)!.current).toBeGreaterThan(0);
  });

  it('--build-context NAME=<git url> is a named directory for COPY --from', async () => {
    const context = dockerfile('named', 'FROM busybox\nCOPY --from=src version.txt /version.txt\n');
    const { listing } = await buildImage('named', ['--build-context', `src=${url}#v1:lib`, context]);
    expect(listing.find((line: string) => line.startsWith('/version.txt '))).toMatch(/ 0644 0:0 2 /);
  });

  it('ADD <git url>#tag copies the repository into dest, keyed by the commit: a second build fetches nothing', async () => {
    const context = dockerfile('add', `FROM busybox\nADD ${url}#v1 /src\nADD --keep-git-dir ${url}#v1 /kept\n`);
    const { listing } = await buildImage('add', ['--network', 'host', context]);
    expect(listing.find((line: string) => line.startsWith('/src/app/hello.txt '))).toMatch(/ 0644 0:0 15 /);
    expect(paths(listing)).toContain('/src/lib/version.txt');
    expect(paths(listing).some((path) => path.startsWith('/src/.git'))).toBe(false);
    expect(paths(listing)).toContain('/kept/lib/version.txt');
    expect(paths(listing)).toContain('/kept/.git/HEAD');
    expect(paths(listing)).toContain('/kept/.git/shallow');

    const fetchesBefore = server.fetches();
    const again = await session.buildJson(['--network', 'host', context]);
    expect(again.status, again.stderr).toBe(0);
    expect(stepOutcomes(again.events).ran).toEqual([]);
    expect(server.fetches()).toBe(fetchesBefore);
  });

  it('a new commit on the branch runs ADD <git url>#branch again', async () => {
    const context = dockerfile('branch', `FROM busybox\nADD ${url}#main:lib /lib\n`);
    const first = await buildImage('branch-1', ['--network', 'host', context]);
    expect(first.listing.find((line: string) => line.startsWith('/lib/version.txt '))).toMatch(/ 2 /);
    repo.commit({ 'lib/version.txt': '2.0\n' });
    server.publish(repo, 'repo');
    const second = await session.buildJson(['--network', 'host', context]);
    expect(second.status, second.stderr).toBe(0);
    expect(stepOutcomes(second.events).ran).toEqual([`ADD ${url}#main:lib /lib`]);
  });

  it('checks out submodules, and drops their .git too', async () => {
    const sub = TestRepo.create(join(session.dir, 'sub-work'));
    sub.commit({ 'lib.txt': 'from a submodule\n' });
    server.publish(sub, 'sub');
    const parent = TestRepo.create(join(session.dir, 'parent-work'));
    parent.addSubmodule('vendor/sub', sub, '../sub.git');
    parent.commit({ Dockerfile: 'FROM busybox\nCOPY . /src/\n' });
    server.publish(parent, 'parent');
    const { listing } = await buildImage('submodules', [server.url('parent')]);
    expect(listing.find((line: string) => line.startsWith('/src/vendor/sub/lib.txt '))).toMatch(/ 0644 0:0 17 /);
    expect(paths(listing).filter((path) => path.includes('.git'))).toEqual(['/src/.gitmodules']);
  });

  it('--checksum verifies the commit the ref names, and fails at the line on a mismatch', async () => {
    const wrong = 'f'.repeat(40);
    const context = dockerfile('checksum', `FROM busybox\nADD --checksum=${wrong} ${url}#v1 /src\n`);
    const failed = await session.tsbuild(['build', '--network', 'host', '--progress', 'plain', context]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`checksum mismatch: expected commit ${wrong}, got ${v1}`);
    expect(failed.stderr).toContain('E_ADD_CHECKSUM');
    expect(failed.stderr).toMatch(/>>> 2 \| ADD --checksum/);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(session.storeTemp()).toEqual([]);

    const pinned = dockerfile('pinned', `FROM busybox\nADD --checksum=${v1} ${url}#v1 /src\n`);
    await buildImage('pinned', ['--network', 'host', pinned]);
  });

  it('says clearly what went wrong, leaving nothing behind', async () => {
    const closedPort = 'http://127.0.0.1:9/nowhere.git';
    const cases: Array<[string[], string, number]> = [
      [[`${url}#no-such-branch`], 'E_GIT_REF_NOT_FOUND', 1],
      [[`${url}#main:no/such/dir`], 'E_GIT_SUBDIR_NOT_FOUND', 1],
      [[closedPort], 'E_GIT_UNREACHABLE', 1],
      [[server.url('missing')], 'E_GIT_UNREACHABLE', 1],
      [[`${url}##ref=main`], 'E_GIT_URL', 2],
      [[`${url}#main:../up`], 'E_GIT_URL', 2],
      [['-f', '../../Dockerfile', `${url}#main:app`], 'E_USAGE', 2],
      [[`${url}#main:escape`], 'E_USAGE', 2],
      [[`${url}#main`], 'cannot read the Dockerfile Dockerfile of http://127.0.0.1', 1],
      [['--build-context', `src=${url}#nope`, dockerfile('named-error', 'FROM busybox\n')], 'E_GIT_REF_NOT_FOUND', 1],
    ];
    for (const [args, code, status] of cases) {
      const result = await session.tsbuild(['build', '--progress', 'plain', ...args]);
      expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(status);
      expect(result.stderr, args.join(' ')).toContain(code);
      expect(result.stderr).toMatch(/hint:/i);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(session.storeTemp()).toEqual([]);
    }
    const add = dockerfile('add-error', `FROM busybox\nADD ${url}#-x /src\n`);
    const badRef = await session.tsbuild(['build', '--network', 'host', '--progress', 'plain', add]);
    expect(badRef.status).toBe(1);
    expect(badRef.stderr).toContain('E_GIT_URL');
    expect(badRef.stderr).toMatch(/>>> 2 \| ADD/);
    const offline = await session.tsbuild(['build', '--progress', 'plain', dockerfile('add-offline', `FROM busybox\nADD ${url}#v1 /src\n`)]);
    expect(offline.status).toBe(1);
    expect(offline.stderr).toContain('E_ADD_REMOTE_NO_NETWORK');
  });

  it('cancelling during a fetch stops git and removes the checkout', async () => {
    // A server that takes the request and never answers: git waits until it is killed.
    const stalled = createServer(() => {});
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const controller = new AbortController();
    try {
      const started = build({
        contextGit: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/stalled.git`, storeRoot: session.store, signal: controller.signal,
      }, () => {});
      setTimeout(() => controller.abort(), 300);
      await expect(started).rejects.toMatchObject({ code: 'E_CANCELLED' });
      expect(session.storeTemp()).toEqual([]);
    } finally {
      stalled.closeAllConnections();
      stalled.close();
    }
  });

  it('never shows the credentials of a URL', async () => {
    const secretUrl = url.replace('http://', 'http://user:s3cret-token@');
    const context = dockerfile('credentials', `FROM busybox\nADD ${secretUrl}#v1:lib /lib\n`);
    const built = await session.tsbuild(['build', '--network', 'host', '--progress', 'plain', '-t', 'credentials', context]);
    expect(built.status, built.stderr).toBe(0);
    expect(built.stderr).toContain('ADD http://***@127.0.0.1');
    const inspected = await session.tsbuild(['inspect', 'credentials']);
    const failed = await session.tsbuild(['build', '--progress', 'plain', `${secretUrl.replace('repo.git', 'missing.git')}#main`]);
    expect(failed.status).toBe(1);
    for (const text of [built.stdout, built.stderr, inspected.stdout, failed.stderr]) expect(text).not.toContain('s3cret-token');
  });

  it('the same commit gives the same image in another store', async () => {
    const other = await openSession();
    try {
      const context = dockerfile('reproducible', `FROM busybox\nADD ${url}#v1 /src\nADD --keep-git-dir ${url}#${v1} /kept\n`);
      const digests = [];
      for (const store of [session.store, other.store]) {
        const built = await runCli(['--root', store, 'build', '-q', '--network', 'host', context], { cwd: session.dir });
        expect(built.status, built.stderr).toBe(0);
        digests.push(built.stdout.trim());
      }
      const fromGit = [];
      for (const store of [session.store, other.store]) {
        const built = await runCli(['--root', store, 'build', '-q', `${url}#v1:app`], { cwd: session.dir });
        expect(built.status, built.stderr).toBe(0);
        fromGit.push(built.stdout.trim());
      }
      expect(digests[1]).toBe(digests[0]);
      expect(fromGit[1]).toBe(fromGit[0]);
    } finally {
      other.close();
    }
  });

  it("a repository's .dockerignore that points at a host file is not read, nor kept in the archive", async () => {
    const hostFile = join(session.dir, 'host-notes.txt');
    writeTree(session.dir, { 'host-notes.txt': 'host-only-secret\nkept.txt\n' });
    const escaping = TestRepo.create(join(session.dir, 'ignore-escape-work'));
    escaping.commit({ Dockerfile: 'FROM busybox\nCOPY kept.txt /kept.txt\n', 'kept.txt': 'kept\n', '.dockerignore': { symlink: hostFile } });
    server.publish(escaping, 'ignore-escape');
    const archive = join(session.dir, 'ignore-escape.tar');
    const built = await session.tsbuild(['build', '-q', '--archive', archive, server.url('ignore-escape')]);
    expect(built.status, built.stderr).toBe(0);
    expect(execFileSync('tar', ['-xOf', archive, '--wildcards', 'blobs/sha256/*'], { maxBuffer: 1 << 28 }).toString('latin1')).not.toContain('host-only-secret');
  });

  it('--archive records the git context (files, URL, commit), and replay needs no server', async () => {
    const archive = join(session.dir, 'from-git.tar');
    const built = await session.tsbuild(['build', '-q', '--archive', archive, `${url}#v1:app`]);
    expect(built.status, built.stderr).toBe(0);
    const buildJson = execFileSync('tar', ['-xOf', archive, '--wildcards', 'blobs/sha256/*'], { maxBuffer: 1 << 28 }).toString('latin1');
    expect(buildJson).toContain(`"gitCommit":"${v1}"`);
    expect(buildJson).toContain(`"contextGit":{"commit":"${v1}","url":"${url}#v1:app"}`);

    // The provenance names what an ADD fetched: the repository at the commit its key holds.
    const addArchive = join(session.dir, 'add-git.tar');
    const added = await session.tsbuild(['build', '-q', '--network', 'host', '--archive', addArchive, join(session.dir, 'add')]);
    expect(added.status, added.stderr).toBe(0);
    expect(provenanceDependencies(addArchive)).toContainEqual({ uri: `git+${url}#v1`, digest: { gitCommit: v1 } });

    await server.close();
    const replayed = await runCli(['replay', '--root', join(session.dir, 'replay-store'), '--progress', 'json', archive], { cwd: session.dir });
    expect(replayed.status, replayed.stderr).toBe(0);
    const report = JSON.parse(replayed.stdout.trim().split('\n').at(-1)!);
    expect(report).toMatchObject({ image: { archived: built.stdout.trim(), rebuilt: built.stdout.trim() } });

    // With --checksum naming the commit, a cached ADD needs no server at all.
    const pinned = await session.buildJson(['--network', 'host', join(session.dir, 'pinned')]);
    expect(pinned.status, pinned.stderr).toBe(0);
    expect(stepOutcomes(pinned.events).ran).toEqual([]);
  });

  it('leaves nothing in the temp dir', () => {
    expect(readdirSync(tmpdir())).toEqual([]);
  });
});
