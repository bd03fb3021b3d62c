// LayeredRoot: the merged view overlayfs would show, and chroot-style path resolution.

import { describe, expect, it } from 'vitest';
import { LayeredRoot } from '../../src/exec/index.js';
import { knowOpaqueDirs } from '../../src/exec/layered-root.js';
import { testdir } from '../helpers/testdir.js';

describe('LayeredRoot: merging lower dirs', () => {
  it('a whiteout hides the entry below it, in lookups and listings', async () => {
    const bottom = testdir({ 'd/a': 'a', 'd/b': 'b' });
    const top = testdir({ 'd/b': { whiteout: true }, 'd/c': 'c' });
    const root = new LayeredRoot([bottom, top]);
    expect(await root.readdir('/d')).toEqual(['a', 'c']);
    expect(await root.lstat('/d/b')).toBeUndefined();
    expect((await root.lstat('/d/a'))?.layer).toBe(0);
    expect((await root.lstat('/d/c'))?.layer).toBe(1);
  });

  it('an opaque dir hides the contents of the same dir below it', async () => {
    const bottom = testdir({ 'd/old': 'old', 'e/kept': 'k' });
    const top = testdir({ 'd/': { dir: true, opaque: true }, 'd/new': 'new', 'e/': { dir: true } });
    const root = new LayeredRoot([bottom, top]);
    expect(await root.readdir('/d')).toEqual(['new']);
    expect(await root.lstat('/d/old')).toBeUndefined();
    expect(await root.readdir('/e')).toEqual(['kept']);
  });

  it('opaque dirs told by the store are used instead of scanning the layer for them', async () => {
    // The marker is on disk but the store's record says otherwise: the record wins, which
    // shows that no scan ran (records are made from the same tree, so they never disagree).
    const bottom = testdir({ 'd/old': 'old', 'e/kept': 'k' });
    const top = testdir({ 'd/': { dir: true, opaque: true }, 'd/new': 'new', 'e/': { dir: true }, 'e/new': 'n' });
    knowOpaqueDirs(top, ['e']);
    const root = new LayeredRoot([bottom, top]);
    expect(await root.readdir('/d')).toEqual(['new', 'old']);
    expect(await root.readdir('/e')).toEqual(['new']);
  });

  it('a file above hides a dir of the same name below, and its contents', async () => {
    const bottom = testdir({ 'x/inner': 'i' });
    const top = testdir({ x: 'now a file' });
    const root = new LayeredRoot([bottom, top]);
    expect((await root.lstat('/x'))?.stats.isFile()).toBe(true);
    expect(await root.lstat('/x/inner')).toBeUndefined();
    const handle = await root.open('/x');
    expect(await handle.readFile('utf8')).toBe('now a file');
    await handle.close();
  });

  it('a dir deleted by a whiteout and recreated above shows only the new contents', async () => {
    const bottom = testdir({ 'd/old': 'old' });
    const middle = testdir({ d: { whiteout: true } });
    const top = testdir({ 'd/new': 'new' });
    expect(await new LayeredRoot([bottom, middle, top]).readdir('/d')).toEqual(['new']);
  });
});

describe('LayeredRoot: resolving inside the root', () => {
  const layers = () => [
    testdir({
      'etc/passwd': 'root:x:0:0::/root:/bin/sh',
      'to-root': { symlink: '/' },
      'climb': { symlink: '../../../../..' },
      'abs-etc': { symlink: '/etc' },
      'rel/link': { symlink: '../etc/passwd' },
      'loop1': { symlink: 'loop2' },
      'loop2': { symlink: 'loop1' },
    }),
  ];

  it('follows absolute and climbing symlinks relative to the root, never to the host', async () => {
    const root = new LayeredRoot(layers());
    expect(await root.resolve('/to-root/etc/passwd')).toBe('/etc/passwd');
    expect(await root.resolve('/climb/etc/passwd')).toBe('/etc/passwd');
    expect(await root.resolve('/abs-etc/../abs-etc/passwd')).toBe('/etc/passwd');
    expect(await root.resolve('/../../etc/./passwd')).toBe('/etc/passwd');
    expect(await root.resolve('/rel/link')).toBe('/etc/passwd');
    expect(await root.resolve('/rel/link', { followFinal: false })).toBe('/rel/link');
  });

  it('reports a missing path, or keeps its missing tail when asked', async () => {
    const root = new LayeredRoot(layers());
    expect(await root.resolve('/abs-etc/nope/x')).toBeUndefined();
    expect(await root.resolve('/abs-etc/nope/x', { allowMissing: true })).toBe('/etc/nope/x');
  });

  it('calls onEscape for a symlink or .. that would leave the root', async () => {
    const root = new LayeredRoot(layers());
    const escapes: string[] = [];
    await root.resolve('/climb/etc', { onEscape: (_path, via) => escapes.push(via) });
    expect(escapes.length).toBeGreaterThan(0);
  });

  it('fails on a symlink loop with a clear error', async () => {
    await expect(new LayeredRoot(layers()).resolve('/loop1')).rejects.toMatchObject({ code: 'E_SYMLINK_LOOP' });
  });
});
