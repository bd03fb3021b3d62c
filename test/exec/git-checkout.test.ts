// The git checkouts behind git sources, against a real smart-HTTP server: which commit a ref
// names (as git itself would pick it), a commit that is no ref's tip, modes that do not depend
// on the host's umask, and a kept .git that says nothing of the checkout's time.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutGitCommit, resolveGitRef } from '../../src/exec/git/checkout.js';
import { runGit } from '../../src/exec/git/cli.js';
import { parseGitUrl } from '../../src/lib/git-url.js';
import { startGitServer, TestRepo, type GitServer } from '../helpers/git-server.js';
import { testdir } from '../helpers/testdir.js';

describe('git checkouts', () => {
  let server: GitServer;
  let work: string;
  const commits: Record<string, string> = {};

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tsbuild-git-checkout-'));
    server = await startGitServer(join(work, 'served'));
    const repo = TestRepo.create(join(work, 'repo'));
    commits.first = repo.commit({ 'a.txt': 'first\n', 'tool.sh': { file: '#!/bin/sh\n', mode: 0o755 } });
    commits.middle = repo.commit({ 'a.txt': 'middle\n' });
    repo.tag('v1', 'annotated');
    commits.last = repo.commit({ 'a.txt': 'last\n' });
    // A tag and a branch of one name: git takes the tag.
    repo.tag('same');
    repo.checkout('same', true);
    commits.branch = repo.commit({ 'a.txt': 'branch\n' });
    repo.checkout('main');
    server.publish(repo, 'repo');
  });
  afterAll(async () => {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });

  const source = (fragment = '') => parseGitUrl(`${server.url('repo')}${fragment}`);

  it.each([
    ['', 'last', 'HEAD'],
    ['#main', 'last', 'refs/heads/main'],
    ['#refs/heads/main', 'last', 'refs/heads/main'],
    ['#v1', 'middle', 'refs/tags/v1'],
    ['#same', 'last', 'refs/tags/same'],
    ['#refs/heads/same', 'branch', 'refs/heads/same'],
  ])('%j names the %s commit (%s)', async (fragment, commit, name) => {
    expect(await resolveGitRef(source(fragment))).toEqual({ commit: commits[commit], name });
  });

  it('a commit id needs no request; an unknown ref is a clear error', async () => {
    const before = server.requests.length;
    expect(await resolveGitRef(source(`#${commits.first}`))).toEqual({ commit: commits.first });
    expect(server.requests.length).toBe(before);
    await expect(resolveGitRef(source('#nope'))).rejects.toMatchObject({ code: 'E_GIT_REF_NOT_FOUND' });
  });

  it('checks out a commit that is no ref tip, with the modes of the repository whatever the umask', async () => {
    const umask = process.umask(0o077);
    try {
      const dir = join(testdir(), 'checkout');
      const root = await checkoutGitCommit(source(), { commit: commits.first! }, dir, { keepGitDir: false });
      expect(readFileSync(join(root, 'a.txt'), 'utf8')).toBe('first\n');
      expect(statSync(join(root, 'a.txt')).mode & 0o777).toBe(0o644);
      expect(statSync(join(root, 'tool.sh')).mode & 0o777).toBe(0o755);
      expect(() => statSync(join(root, '.git'))).toThrow();
    } finally {
      process.umask(umask);
    }
  });

  it('a kept .git has the remote without credentials and an index without file times', async () => {
    const checkouts = [];
    for (const user of ['one:secret1', 'two:secret2']) {
      const withCredentials = parseGitUrl(`${server.url('repo').replace('//', `//${user}@`)}#v1`);
      const dir = join(testdir(), 'checkout');
      await checkoutGitCommit(withCredentials, { commit: commits.middle!, name: 'refs/tags/v1' }, dir, { keepGitDir: true });
      checkouts.push(dir);
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    const [a, b] = checkouts as [string, string];
    expect(readFileSync(join(a, '.git', 'index'))).toEqual(readFileSync(join(b, '.git', 'index')));
    expect(readFileSync(join(a, '.git', 'config'), 'utf8')).toContain(`url = ${server.url('repo').replace('//', '//***@')}\n`);
    expect(readFileSync(join(a, '.git', 'config'), 'utf8')).not.toContain('secret');
    expect(await runGit(['status', '--porcelain'], { cwd: a })).toBe('');
  });

  it('a kept .git with a submodule fetched by a relative URL keeps no credentials', async () => {
    const sub = TestRepo.create(join(work, 'sub-work'));
    sub.commit({ 'lib.txt': 'sub\n' });
    server.publish(sub, 'sub');
    const parent = TestRepo.create(join(work, 'parent-work'));
    parent.addSubmodule('vendor/sub', sub, '../sub.git');
    const commit = parent.commit({ 'top.txt': 'top\n' });
    server.publish(parent, 'parent');
    const withCredentials = parseGitUrl(server.url('parent').replace('//', '//user:secret3@'));
    const checkouts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const dir = join(testdir(), 'checkout');
      await checkoutGitCommit(withCredentials, { commit, name: 'refs/heads/main' }, dir, { keepGitDir: true });
      checkouts.push(dir);
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    const [dir, again] = checkouts as [string, string];
    expect(readFileSync(join(dir, 'vendor', 'sub', 'lib.txt'), 'utf8')).toBe('sub\n');
    const files = readdirSync(join(dir, '.git'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    const leaking = files.filter((entry) => readFileSync(join(entry.parentPath, entry.name)).includes('secret3'));
    expect(leaking.map((entry) => entry.name)).toEqual([]);
    // The submodule's index holds no file times either: the same commit gives the same bytes.
    const subIndex = (root: string) => readFileSync(join(root, '.git', 'modules', 'vendor', 'sub', 'index'));
    expect(subIndex(dir)).toEqual(subIndex(again));
    expect(await runGit(['status', '--porcelain'], { cwd: join(dir, 'vendor', 'sub') })).toBe('');
  });

  it('says so when git is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(runGit(['version'])).rejects.toMatchObject({ code: 'E_GIT_MISSING', hint: expect.stringContaining('install git') });
    } finally {
      process.env.PATH = path;
    }
  });
});
