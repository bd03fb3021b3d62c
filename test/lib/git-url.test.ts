// Git URLs as BuildKit tells them from files and paths, split into remote, ref and subdir,
// and shown without credentials.

import { describe, expect, it } from 'vitest';
import { isFetchedSource, isGitUrl, parseGitUrl, redactUrl } from '../../src/lib/git-url.js';

describe('isGitUrl', () => {
  it.each([
    ['https://github.com/org/repo.git', true],
    ['https://github.com/org/repo.git#main:docs', true],
    ['http://127.0.0.1:8080/repo.git', true],
    ['git://host/repo', true],
    ['ssh://git@host/org/repo', true],
    ['git@github.com:org/repo.git', true],
    ['deploy@host.example:repo#v1', true],
    ['https://example.com/file.tar.gz', false],
    ['https://example.com/repo', false],
    ['ftp://host/repo.git', false],
    ['github.com/org/repo', false],
    ['./repo.git', false],
    ['dir/with@sign:colon', false],
  ])('%s → %s', (text, expected) => {
    expect(isGitUrl(text)).toBe(expected);
  });

  it('ADD fetches http(s) files and git repositories', () => {
    expect(['https://example.com/f', 'git@h:r', 'git://h/r'].every(isFetchedSource)).toBe(true);
    expect(isFetchedSource('src/app.tar')).toBe(false);
  });
});

describe('parseGitUrl', () => {
  it.each([
    ['https://host/repo.git', { remote: 'https://host/repo.git', subdir: '' }],
    ['https://host/repo.git#v1.2', { remote: 'https://host/repo.git', ref: 'v1.2', subdir: '' }],
    ['https://host/repo.git#main:docs/site/', { ref: 'main', subdir: 'docs/site' }],
    ['https://host/repo.git#:/docs', { subdir: 'docs' }],
    ['https://host/repo.git#refs/pull/42/head:a/./b/../c', { ref: 'refs/pull/42/head', subdir: 'a/c' }],
    ['git@github.com:org/repo.git#feature/x', { remote: 'git@github.com:org/repo.git', ref: 'feature/x', subdir: '' }],
  ])('%s', (text, expected) => {
    expect(parseGitUrl(text)).toMatchObject(expected);
  });

  it.each([
    ['https://host/file.txt', 'is not a git URL'],
    ['https://host/repo.git##ref=main,subdir=docs', 'the ##key=value form is not supported'],
    ['https://host/repo.git?ref=main', 'query parameters'],
    ['https://host/repo.git#--upload-pack=touch', 'is not a valid branch, tag or commit'],
    ['https://host/repo.git#a..b', 'is not a valid branch, tag or commit'],
    ['https://host/repo.git#main:../../etc', 'climbs out of the repository'],
    // git's own commands would read it as an option (-u is ls-remote's --upload-pack).
    ['-utouch@host:repo.git#main', 'starts with -'],
    ['--upload-pack@host:repo.git', 'starts with -'],
  ])('refuses %s', (text, message) => {
    expect(() => parseGitUrl(text)).toThrow(message);
    try {
      parseGitUrl(text);
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_GIT_URL', exitCode: 2, hint: expect.any(String) });
    }
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://user:secret@host/repo.git#main', 'https://***@host/repo.git#main'],
    ['https://ghp_token@host/repo.git', 'https://***@host/repo.git'],
    ['ssh://git@host/repo.git', 'ssh://git@host/repo.git'],
    ['ssh://git:pw@host/repo.git', 'ssh://***@host/repo.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
    ["fatal: unable to access 'https://u:p@host/x.git/': 403", "fatal: unable to access 'https://***@host/x.git/': 403"],
    ['https://host/a@b/repo.git', 'https://host/a@b/repo.git'],
  ])('%s', (text, shown) => {
    expect(redactUrl(text)).toBe(shown);
  });
});
