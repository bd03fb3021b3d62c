// COPY never reads outside its source and never writes outside the upper dir: escapes through
// `..`, symlinks in the context, and symlinks at the destination in lower layers.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyIntoLayer, type CopyRequest } from '../../src/exec/index.js';
import { listTree, testdir, type Tree } from '../helpers/testdir.js';
import { copyRequest } from './copy-helpers.js';

function request(context: string, upper: string, overrides: Partial<CopyRequest>): CopyRequest {
  return copyRequest(context, upper, { sources: ['a.txt'], ...overrides });
}

describe('COPY sources outside the context', () => {
  const context: Tree = {
    'a.txt': 'A',
    'abs-link': { symlink: '/etc/passwd' },
    'up-link': { symlink: '../../../../etc/passwd' },
    'dir-link': { symlink: '../..' },
    'inside-link': { symlink: 'sub/../a.txt' },
  };

  it.each([
    ['../x', 'climbs above the context'],
    ['sub/../../a.txt', 'climbs above the context'],
    ['abs-link', '/etc/passwd'],
    ['up-link', '..'],
    ['dir-link/etc/passwd', '..'],
    ['dir-link/*', '..'],
    ['dir-link/*.none', '..'],
  ])('rejects %s', async (source, why) => {
    const upper = testdir();
    const error = copyIntoLayer(request(testdir(context), upper, { sources: [source] }));
    await expect(error).rejects.toMatchObject({ code: 'E_COPY_OUTSIDE_CONTEXT' });
    await expect(error).rejects.toThrow(why);
    expect(readdirSync(upper)).toEqual([]);
  });

  it('allows a symlink that stays inside the context', async () => {
    const upper = testdir();
    await copyIntoLayer(request(testdir({ ...context, 'sub/': '' }), upper, { sources: ['inside-link'], dest: '/i' }));
    expect(listTree(upper)).toEqual(['i 0644 0:0 "A"']);
  });

  it('names a missing source', async () => {
    const error = copyIntoLayer(request(testdir(context), testdir(), { sources: ['a.txt', 'nope/file.txt'], dest: '/d/' }));
    await expect(error).rejects.toMatchObject({ code: 'E_COPY_SOURCE_MISSING' });
    await expect(error).rejects.toThrow('"nope/file.txt"');
  });

  it('treats files removed by .dockerignore as missing', async () => {
    const filter = { isExcluded: (rel: string) => rel === 'a.txt' };
    const error = copyIntoLayer(request(testdir(context), testdir(), { source: { kind: 'dir', path: testdir(context), filter } }));
    await expect(error).rejects.toMatchObject({ code: 'E_COPY_SOURCE_MISSING' });
  });

  it('points remote sources at the network path', async () => {
    await expect(copyIntoLayer(request(testdir(context), testdir(), { sources: ['https://example.com/x.tgz'] }))).rejects.toMatchObject({
      code: 'E_COPY_REMOTE_SOURCE',
    });
  });
});

describe('COPY destinations through lower layers', () => {
  async function copyOver(lower: Tree[], dest: string, sources = ['a.txt']): Promise<{ upper: string; tree: string[] }> {
    const upper = join(testdir(), 'upper');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(upper);
    const lowerDirs = lower.map((tree) => testdir(tree));
    await copyIntoLayer(request(testdir({ 'a.txt': 'A', 'd/b.txt': 'B' }), upper, { sources, dest, lowerDirs }));
    return { upper, tree: listTree(upper) };
  }

  it.each([
    ['a symlink to /', { app: { symlink: '/' } }],
    ['a symlink climbing with ../../..', { app: { symlink: '../../../../../../..' } }],
    ['a symlink to an absolute dir', { 'srv/': '', app: { symlink: '/srv/../' } }],
  ])('resolves a destination through %s inside the root', async (_name, tree) => {
    const { upper, tree: listing } = await copyOver([tree as Tree], '/app/');
    expect(listing).toContain('a.txt 0644 0:0 "A"');
    expect(existsSync(join(dirname(upper), 'a.txt'))).toBe(false);
  });

  it('follows a destination symlink into a lower dir and copies that dir up', async () => {
    const { tree } = await copyOver([{ 'data/': { dir: true, mode: 0o700 }, app: { symlink: 'data' } }], '/app/');
    expect(tree).toEqual(['data/ 0700 0:0', 'data/a.txt 0644 0:0 "A"']);
  });

  it('creates a dir that a whiteout deleted fresh, without the deleted dir’s metadata', async () => {
    const { tree } = await copyOver([{ 'gone/': { dir: true, mode: 0o700, uid: 9, gid: 9 }, 'gone/old': 'o' }, { gone: { whiteout: true } }], '/gone/');
    expect(tree).toEqual(['gone/ 0755 0:0', 'gone/a.txt 0644 0:0 "A"']);
  });

  it('replaces a file of a lower layer with the copied file', async () => {
    const { tree } = await copyOver([{ 'etc/conf': 'old' }], '/etc/conf');
    expect(tree).toEqual(['etc/ 0755 0:0', 'etc/conf 0644 0:0 "A"']);
  });

  it('refuses to copy a directory over a file, or a file over a directory', async () => {
    await expect(copyOver([{ 'x/d': 'file' }], '/x/', ['.'])).rejects.toMatchObject({ code: 'E_COPY_NOT_DIRECTORY' });
    await expect(copyOver([{ 'x/a.txt/': '' }], '/x/a.txt/', ['a.txt'])).resolves.toBeDefined();
    await expect(copyOver([{ 'y/a.txt/inner': 'i' }], '/y/', ['a.txt'])).rejects.toMatchObject({ code: 'E_COPY_OVERWRITE_DIR' });
  });

  it('with --link ignores the lower layers entirely', async () => {
    const upper = testdir();
    await copyIntoLayer(
      request(testdir({ 'a.txt': 'A' }), upper, { dest: '/app/', lowerDirs: [testdir({ app: { symlink: '/elsewhere' } })], link: true }),
    );
    expect(listTree(upper)).toEqual(['app/ 0755 0:0', 'app/a.txt 0644 0:0 "A"']);
  });
});
