// --exclude, --parents, .dockerignore exceptions, --chmod parsing and ADD's archive detection.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { copyIntoLayer, exceptionMayMatchBelow, isArchiveFile, parseChmod, type CopyRequest } from '../../src/exec/index.js';
import { createIgnoreMatcher, readIgnorePatterns } from '../../src/recipe/dockerignore.js';
import { listTree, testdir, type Tree } from '../helpers/testdir.js';
import { copyRequest } from './copy-helpers.js';

async function copy(context: Tree, overrides: Partial<CopyRequest>): Promise<string[]> {
  const upper = testdir();
  await copyIntoLayer(copyRequest(testdir(context), upper, { dest: '/out/', ...overrides }));
  return listTree(upper);
}

const project: Tree = {
  'README.md': 'r',
  'src/a.ts': 'a',
  'src/a.test.ts': 't',
  'src/deep/b.ts': 'b',
  'docs/guide.md': 'g',
  'homework.txt': 'h1',
  'homely.ts': 'h2',
};

describe('--exclude', () => {
  it('drops matching paths inside a copied dir, and dirs with everything below them', async () => {
    expect(await copy(project, { exclude: ['*.md', 'docs', '**/*.test.ts'] })).toEqual([
      'out/ 0755 0:0',
      'out/homely.ts 0644 0:0 "h2"',
      'out/homework.txt 0644 0:0 "h1"',
      'out/src/ 0755 0:0',
      'out/src/a.ts 0644 0:0 "a"',
      'out/src/deep/ 0755 0:0',
      'out/src/deep/b.ts 0644 0:0 "b"',
    ]);
  });

  it('applies to paths below each wildcard match, never to the match itself (BuildKit)', async () => {
    const media: Tree = { 'dir1/a.png': '1', 'dir1/b.txt': '2', 'dir3/c.mp3': '3', 'dir3/d.mpeg': '4' };
    expect(await copy(media, { sources: ['dir*'], exclude: ['*.mp3', '*.png', '*.txt'] })).toEqual([
      'out/ 0755 0:0',
      'out/d.mpeg 0644 0:0 "4"',
    ]);
    expect(await copy(media, { sources: ['dir*'], exclude: ['*'], dest: '/six' })).toEqual(['six/ 0755 0:0']);
  });

  it('re-includes with ! and creates only the dirs that lead to included files', async () => {
    expect(await copy(project, { sources: ['src'], exclude: ['**', '!deep/b.ts'] })).toEqual([
      'out/ 0755 0:0',
      'out/deep/ 0755 0:0',
      'out/deep/b.ts 0644 0:0 "b"',
    ]);
  });
});

describe('.dockerignore exceptions below an excluded dir', () => {
  it('walks an excluded dir only when an exception may re-include something below it', async () => {
    const filter = {
      isExcluded: (rel: string) => rel.startsWith('src') && rel !== 'src/deep' && rel !== 'src/deep/b.ts',
      mayIncludeBelow: (rel: string) => rel === 'src',
    };
    const upper = testdir();
    const source = { kind: 'dir' as const, path: testdir(project), filter };
    await copyIntoLayer(copyRequest('', upper, { source, dest: '/o/', exclude: ['*.md', 'docs', 'home*'] }));
    expect(listTree(upper)).toEqual(['o/ 0755 0:0', 'o/src/ 0755 0:0', 'o/src/deep/ 0755 0:0', 'o/src/deep/b.ts 0644 0:0 "b"']);
  });
});

describe('.dockerignore read by recipe/, with exceptions', () => {
  it('re-includes a file below an excluded dir, and skips what stays excluded', async () => {
    const patterns = readIgnorePatterns('**\n!src/deep/b.ts\n!README.md\n');
    const filter = { isExcluded: createIgnoreMatcher(patterns), mayIncludeBelow: exceptionMayMatchBelow(patterns) };
    const upper = testdir();
    await copyIntoLayer(copyRequest('', upper, { source: { kind: 'dir', path: testdir(project), filter }, dest: '/i/' }));
    expect(listTree(upper)).toEqual([
      'i/ 0755 0:0',
      'i/README.md 0644 0:0 "r"',
      'i/src/ 0755 0:0',
      'i/src/deep/ 0755 0:0',
      'i/src/deep/b.ts 0644 0:0 "b"',
    ]);
  });
});

describe('--parents', () => {
  it('keeps each matched path below the destination', async () => {
    expect(await copy(project, { sources: ['src/*.ts', 'docs/guide.md'], parents: true, dest: '/p' })).toEqual([
      'p/ 0755 0:0',
      'p/docs/ 0755 0:0',
      'p/docs/guide.md 0644 0:0 "g"',
      'p/src/ 0755 0:0',
      'p/src/a.test.ts 0644 0:0 "t"',
      'p/src/a.ts 0644 0:0 "a"',
    ]);
  });

  it('keeps only what follows a /./ pivot, and matches ** across dirs', async () => {
    expect(await copy(project, { sources: ['./src/./**/*.ts'], parents: true, exclude: ['*.test.ts'], dest: '/q/' })).toEqual([
      'q/ 0755 0:0',
      'q/a.ts 0644 0:0 "a"',
      'q/deep/ 0755 0:0',
      'q/deep/b.ts 0644 0:0 "b"',
    ]);
  });

  it('copies the source dirs on the way with their own modes', async () => {
    const tree: Tree = { 'x/': { dir: true, mode: 0o700 }, 'x/y/': { dir: true, mode: 0o750 }, 'x/y/f': 'f' };
    expect(await copy(tree, { sources: ['x/y/f'], parents: true, dest: '/' })).toEqual([
      'x/ 0700 0:0',
      'x/y/ 0750 0:0',
      'x/y/f 0644 0:0 "f"',
    ]);
  });
});

describe('parseChmod', () => {
  it.each([
    ['755', 0o644, false, 0o755],
    ['0640', 0o777, true, 0o640],
    ['4755', 0o644, false, 0o4755],
    ['u+x', 0o644, false, 0o744],
    ['a+X', 0o644, false, 0o644],
    ['a+X', 0o644, true, 0o755],
    ['a+X', 0o744, false, 0o755],
    ['go-rwx', 0o755, false, 0o700],
    ['u=rwx,g=rx,o=', 0o000, false, 0o750],
    ['g=u', 0o640, false, 0o660],
    ['+t', 0o755, true, 0o1755],
    ['u+s', 0o755, false, 0o4755],
  ])('%s turns %o (dir: %s) into %o', (spec, mode, isDir, expected) => {
    expect(parseChmod(spec)(mode, isDir).toString(8)).toBe(expected.toString(8));
  });

  it.each(['abc', '8', 'u+q', 'u+x,', '99999'])('rejects %s', (spec) => {
    expect(() => parseChmod(spec)).toThrow(expect.objectContaining({ code: 'E_COPY_BAD_CHMOD' }));
  });
});

describe('ADD: archives handed to the extractor', () => {
  it('extracts matched archives into the destination and copies everything else', async () => {
    const context = testdir({ 'notes.gz': '' });
    writeFileSync(join(context, 'notes.gz'), gzipSync('plain text'));
    const staging = testdir({ 'pkg/bin/tool': 'tool' });
    execFileSync('tar', ['-czf', join(context, 'pkg.tar.gz'), '-C', staging, 'pkg']);
    const extracted: string[] = [];
    const unpack = async (archive: string, destDir: string) => {
      extracted.push(archive);
      execFileSync('tar', ['-xzf', archive, '-C', destDir, '--no-same-owner']);
    };
    const upper = testdir();
    const lower = testdir({ 'srv/': '', opt: { symlink: '/srv' } });
    await copyIntoLayer(copyRequest(context, upper, { sources: ['*.gz'], dest: '/opt', lowerDirs: [lower], unpack }));
    expect(extracted).toEqual([join(context, 'pkg.tar.gz')]);
    const tree = listTree(upper);
    expect(tree).toContain('srv/pkg/bin/tool 0644 0:0 "tool"');
    expect(tree.some((line) => line.startsWith('srv/notes.gz 0644 0:0'))).toBe(true);
  });
});

describe('isArchiveFile', () => {
  function tarOf(dir: string): string {
    writeFileSync(join(dir, 'inner.txt'), 'inside');
    execFileSync('tar', ['-cf', join(dir, 'a.tar'), '-C', dir, 'inner.txt']);
    return join(dir, 'a.tar');
  }

  it('recognises plain and compressed tars by their bytes, not their names', async () => {
    const dir = testdir();
    const tar = tarOf(dir);
    for (const [tool, flag] of [['gzip', '-k'], ['bzip2', '-k'], ['xz', '-k'], ['zstd', '-q']] as const) {
      execFileSync(tool, [flag, '-f', tar]);
    }
    execFileSync('cp', [tar, join(dir, 'no-extension')]);
    for (const name of ['a.tar', 'a.tar.gz', 'a.tar.bz2', 'a.tar.xz', 'a.tar.zst', 'no-extension']) {
      expect([name, await isArchiveFile(join(dir, name))]).toEqual([name, true]);
    }
  });

  it('rejects text, a gzip of text, an empty file and a truncated gzip', async () => {
    const dir = testdir({ 'text.tar': 'just some text, not a tar header', empty: '' });
    writeFileSync(join(dir, 'text.gz'), gzipSync('not a tar at all'.repeat(100)));
    writeFileSync(join(dir, 'cut.tar.gz'), gzipSync(Buffer.alloc(4096, 1)).subarray(0, 20));
    for (const name of ['text.tar', 'empty', 'text.gz', 'cut.tar.gz']) {
      expect([name, await isArchiveFile(join(dir, name))]).toEqual([name, false]);
    }
  });
});
