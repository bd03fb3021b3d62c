// COPY/ADD file operations against real temp dirs: what lands in the upper dir, with which
// modes and owners, for the cases of the Dockerfile reference and BuildKit's copier.

import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyIntoLayer, type CopyRequest, type CopySource } from '../../src/exec/index.js';
import { listTree, testdir, type Tree } from '../helpers/testdir.js';

interface CopyCase {
  context?: Tree;
  source?: CopySource;
  sources: string[];
  dest: string;
  lower?: Tree[];
  options?: Partial<CopyRequest>;
}

async function copy(input: CopyCase): Promise<{ upper: string; tree: string[] }> {
  const upper = testdir();
  const lowerDirs = (input.lower ?? []).map((tree) => testdir(tree));
  await copyIntoLayer({
    source: input.source ?? { kind: 'dir', path: testdir(input.context ?? {}) },
    sources: input.sources,
    dest: input.dest,
    workdir: '/',
    lowerDirs,
    upperDir: upper,
    exclude: [],
    parents: false,
    link: false,
    ...input.options,
  });
  return { upper, tree: listTree(upper) };
}

describe('copyIntoLayer: files', () => {
  it('copies a file to a new path without a trailing slash as that file', async () => {
    const { tree } = await copy({ context: { 'a.txt': 'A' }, sources: ['a.txt'], dest: '/b.txt' });
    expect(tree).toEqual(['b.txt 0644 0:0 "A"']);
  });

  it('copies a file into a dir when the destination ends with /, creating it 0755', async () => {
    const { tree } = await copy({ context: { 'a.txt': 'A' }, sources: ['a.txt'], dest: '/x/y/' });
    expect(tree).toEqual(['x/ 0755 0:0', 'x/y/ 0755 0:0', 'x/y/a.txt 0644 0:0 "A"']);
  });

  it('copies a file into an existing dir of a lower layer, copying the dir up with its metadata', async () => {
    const { tree } = await copy({
      context: { 'a.txt': 'A' },
      sources: ['a.txt'],
      dest: '/srv',
      lower: [{ 'srv/': { dir: true, mode: 0o750, uid: 7, gid: 8 }, 'srv/old': 'old' }],
    });
    expect(tree).toEqual(['srv/ 0750 7:8', 'srv/a.txt 0644 0:0 "A"']);
  });

  it('resolves a relative destination against the workdir', async () => {
    const { tree } = await copy({
      context: { 'a.txt': 'A' },
      sources: ['a.txt'],
      dest: 'sub/',
      options: { workdir: '/app' },
    });
    expect(tree).toEqual(['app/ 0755 0:0', 'app/sub/ 0755 0:0', 'app/sub/a.txt 0644 0:0 "A"']);
  });

  it('keeps the exec bit and follows a source symlink to its target, naming the copy after the link', async () => {
    const { tree } = await copy({
      context: { 'run.sh': { file: '#!/bin/sh', mode: 0o755 }, link: { symlink: 'run.sh' } },
      sources: ['link'],
      dest: '/bin/',
    });
    expect(tree).toEqual(['bin/ 0755 0:0', 'bin/link 0755 0:0 "#!/bin/sh"']);
  });

  it('several sources need a destination ending in /', async () => {
    await expect(copy({ context: { a: 'a', b: 'b' }, sources: ['a', 'b'], dest: '/d' })).rejects.toMatchObject({
      code: 'E_COPY_DEST_NOT_DIR',
    });
    const { tree } = await copy({ context: { a: 'a', b: 'b' }, sources: ['a', 'b'], dest: '/d/' });
    expect(tree).toEqual(['d/ 0755 0:0', 'd/a 0644 0:0 "a"', 'd/b 0644 0:0 "b"']);
  });
});

describe('copyIntoLayer: directories', () => {
  const context: Tree = {
    'src/': { dir: true, mode: 0o700 },
    'src/main.c': 'int main;',
    'src/lib/': { dir: true, mode: 0o711 },
    'src/lib/util.c': 'util',
    'src/empty/': { dir: true },
    'src/link': { symlink: '../outside/target' },
  };

  it('copies a directory’s contents, not the directory; symlinks stay symlinks; empty dirs are kept', async () => {
    const { tree } = await copy({ context, sources: ['src'], dest: '/app' });
    expect(tree).toEqual([
      'app/ 0755 0:0',
      'app/empty/ 0755 0:0',
      'app/lib/ 0711 0:0',
      'app/lib/util.c 0644 0:0 "util"',
      'app/link 0777 0:0 -> ../outside/target',
      'app/main.c 0644 0:0 "int main;"',
    ]);
  });

  it('copies the context root for "." and "./sub/.."', async () => {
    for (const source of ['.', './src/..']) {
      const { tree } = await copy({ context: { 'a.txt': 'A', 'd/b.txt': 'B' }, sources: [source], dest: '/r/' });
      expect(tree).toEqual(['r/ 0755 0:0', 'r/a.txt 0644 0:0 "A"', 'r/d/ 0755 0:0', 'r/d/b.txt 0644 0:0 "B"']);
    }
  });

  it('merges into an existing destination dir without changing its metadata, but cp -a’s subdirs over', async () => {
    const { tree } = await copy({
      context: { 'd/x': 'x', 'd/sub/': { dir: true, mode: 0o750 }, 'd/sub/y': 'y' },
      sources: ['d'],
      dest: '/opt',
      lower: [{ 'opt/': { dir: true, mode: 0o700, uid: 5, gid: 5 }, 'opt/keep': 'k', 'opt/sub/': { dir: true, mode: 0o777, uid: 5, gid: 5 } }],
    });
    expect(tree).toEqual(['opt/ 0700 5:5', 'opt/sub/ 0750 0:0', 'opt/sub/y 0644 0:0 "y"', 'opt/x 0644 0:0 "x"']);
  });

  it('keeps hardlinks between copied files', async () => {
    const { upper } = await copy({
      context: { 'd/a': 'same', 'd/b': { hardlink: 'd/a' } },
      sources: ['d'],
      dest: '/h/',
    });
    expect(lstatSync(join(upper, 'h/a')).ino).toBe(lstatSync(join(upper, 'h/b')).ino);
    expect(lstatSync(join(upper, 'h/a')).nlink).toBe(2);
  });

  it('copies a large file (through the thread pool) byte for byte', async () => {
    const big = Buffer.alloc(9 << 20, 7);
    big.write('end', big.length - 3);
    const { upper } = await copy({ context: { 'big.bin': { file: big } }, sources: ['big.bin'], dest: '/b' });
    expect(readFileSync(join(upper, 'b')).equals(big)).toBe(true);
  });

  it('copies names with spaces and unicode', async () => {
    const { tree } = await copy({
      context: { 'my dir/naïve café ✓.txt': 'u' },
      sources: ['my dir'],
      dest: '/u/',
    });
    expect(tree).toEqual(['u/ 0755 0:0', 'u/naïve café ✓.txt 0644 0:0 "u"']);
  });
});

describe('copyIntoLayer: wildcards', () => {
  const context: Tree = { 'a1.txt': '1', 'a2.txt': '2', 'b.txt': 'b', 'ab.md': 'm', 'd1/x': 'x', 'd2/y': 'y' };

  it('expands *, ? and [] in the source', async () => {
    expect((await copy({ context, sources: ['a*.txt'], dest: '/w/' })).tree).toEqual([
      'w/ 0755 0:0',
      'w/a1.txt 0644 0:0 "1"',
      'w/a2.txt 0644 0:0 "2"',
    ]);
    expect((await copy({ context, sources: ['a?.*'], dest: '/w/' })).tree).toEqual([
      'w/ 0755 0:0',
      'w/a1.txt 0644 0:0 "1"',
      'w/a2.txt 0644 0:0 "2"',
      'w/ab.md 0644 0:0 "m"',
    ]);
    expect((await copy({ context, sources: ['[ab][^1]*'], dest: '/w/' })).tree).toEqual([
      'w/ 0755 0:0',
      'w/a2.txt 0644 0:0 "2"',
      'w/ab.md 0644 0:0 "m"',
      'w/b.txt 0644 0:0 "b"',
    ]);
  });

  it('copies the contents of each matched dir into the destination', async () => {
    const { tree } = await copy({ context, sources: ['d*'], dest: '/m/' });
    expect(tree).toEqual(['m/ 0755 0:0', 'm/x 0644 0:0 "x"', 'm/y 0644 0:0 "y"']);
  });

  it('copies nothing for a wildcard that matches nothing in an existing dir, as BuildKit', async () => {
    const { tree } = await copy({ context, sources: ['*.none', 'b.txt'], dest: '/n/' });
    expect(tree).toEqual(['n/ 0755 0:0', 'n/b.txt 0644 0:0 "b"']);
    expect((await copy({ context, sources: ['*.none'], dest: '/n/' })).tree).toEqual([]);
    await expect(copy({ context, sources: ['nodir/*'], dest: '/n/' })).rejects.toMatchObject({
      code: 'E_COPY_SOURCE_MISSING',
    });
  });
});

describe('copyIntoLayer: --chown and --chmod', () => {
  it('gives every copied entry and every created parent the --chown owner', async () => {
    const { tree } = await copy({
      context: { 'd/f': 'f', 'd/s/': { dir: true } },
      sources: ['d'],
      dest: '/p/q',
      options: { chown: { uid: 1000, gid: 1001 } },
    });
    expect(tree).toEqual(['p/ 0755 1000:1001', 'p/q/ 0755 1000:1001', 'p/q/f 0644 1000:1001 "f"', 'p/q/s/ 0755 1000:1001']);
  });

  it('applies an octal --chmod to files and copied dirs, not to created parents', async () => {
    const { tree } = await copy({
      context: { 'd/f': 'f', 'd/s/': { dir: true } },
      sources: ['d'],
      dest: '/c/',
      options: { chmod: '640' },
    });
    expect(tree).toEqual(['c/ 0755 0:0', 'c/f 0640 0:0 "f"', 'c/s/ 0640 0:0']);
  });

  it('applies a symbolic --chmod relative to each entry’s mode', async () => {
    const { tree } = await copy({
      context: { 'd/f': 'f', 'd/x': { file: 'x', mode: 0o700 }, 'd/s/': { dir: true, mode: 0o700 } },
      sources: ['d'],
      dest: '/c/',
      options: { chmod: 'go+rX,u-w' },
    });
    expect(tree).toEqual(['c/ 0755 0:0', 'c/f 0444 0:0 "f"', 'c/s/ 0555 0:0', 'c/x 0555 0:0 "x"']);
  });
});

describe('copyIntoLayer: from another stage’s layers', () => {
  it('reads through whiteouts and keeps owners', async () => {
    const bottom = testdir({ 'etc/app/': { dir: true }, 'etc/app/a': { file: 'a', uid: 33, gid: 34 }, 'etc/app/gone': 'g' });
    const top = testdir({ 'etc/app/gone': { whiteout: true }, 'etc/app/b': 'b' });
    const { tree } = await copy({
      source: { kind: 'layers', lowerDirs: [bottom, top] },
      sources: ['/etc/app'],
      dest: '/copied',
    });
    expect(tree).toEqual(['copied/ 0755 0:0', 'copied/a 0644 33:34 "a"', 'copied/b 0644 0:0 "b"']);
  });

  it('keeps file capabilities and user xattrs through --chown, but not overlay markers', async () => {
    const stage = testdir({ 'bin/': { dir: true, opaque: true }, 'bin/ping': { file: 'elf', mode: 0o755 } });
    execFileSync('setcap', ['cap_net_raw+ep', join(stage, 'bin/ping')]);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', join(stage, 'bin/ping')]);
    const { upper } = await copy({
      source: { kind: 'layers', lowerDirs: [stage] },
      sources: ['/'],
      dest: '/usr/',
      options: { chown: { uid: 10, gid: 10 } },
    });
    expect(execFileSync('getcap', [join(upper, 'usr/bin/ping')], { encoding: 'utf8' })).toContain('cap_net_raw=ep');
    const dump = (path: string) => execFileSync('getfattr', ['-d', '-m', '-', '--absolute-names', path], { encoding: 'utf8' });
    expect(dump(join(upper, 'usr/bin/ping'))).toContain('user.note="hello"');
    expect(dump(join(stage, 'bin'))).toContain('trusted.overlay.opaque');
    expect(dump(join(upper, 'usr/bin'))).not.toContain('overlay');
  });

  it('gives files in a setgid dir their own group, not the dir’s', async () => {
    // The dir is made setgid last, so that its contents keep group 0 in the source.
    const stage = testdir({ 'srv/f': 'f', 'srv/sub/': { dir: true }, 'srv/': { dir: true, mode: 0o2775, gid: 50 } });
    const { tree } = await copy({ source: { kind: 'layers', lowerDirs: [stage] }, sources: ['/'], dest: '/' });
    expect(tree).toEqual(['srv/ 2775 0:50', 'srv/f 0644 0:0 "f"', 'srv/sub/ 0755 0:0']);
  });

  it('copies fifos and device nodes with their numbers', async () => {
    const stage = testdir({ 'dev/': '' });
    execFileSync('mknod', [join(stage, 'dev/null'), 'c', '1', '3']);
    execFileSync('mknod', [join(stage, 'dev/loop9'), 'b', '7', '9']);
    execFileSync('mkfifo', [join(stage, 'dev/fifo')]);
    const { upper } = await copy({ source: { kind: 'layers', lowerDirs: [stage] }, sources: ['/dev'], dest: '/d/' });
    expect(lstatSync(join(upper, 'd/null')).rdev).toBe(lstatSync(join(stage, 'dev/null')).rdev);
    expect(lstatSync(join(upper, 'd/null')).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(upper, 'd/loop9')).rdev).toBe(lstatSync(join(stage, 'dev/loop9')).rdev);
    expect(lstatSync(join(upper, 'd/fifo')).isFIFO()).toBe(true);
  });

  it('reads a context reached through a host symlink', async () => {
    const real = testdir({ 'a.txt': 'A' });
    const linkDir = join(testdir(), 'ctx');
    symlinkSync(real, linkDir);
    const { tree } = await copy({ source: { kind: 'dir', path: linkDir }, sources: ['.'], dest: '/c/' });
    expect(tree).toEqual(['c/ 0755 0:0', 'c/a.txt 0644 0:0 "A"']);
  });

  it('resolves an absolute symlink of the stage inside the stage’s root', async () => {
    const stage = testdir({ 'real/bin/tool': { file: 'tool', mode: 0o755 }, 'usr/bin/tool': { symlink: '/real/bin/tool' } });
    const { upper } = await copy({
      source: { kind: 'layers', lowerDirs: [stage] },
      sources: ['/usr/bin/tool'],
      dest: '/t',
    });
    expect(readFileSync(join(upper, 't'), 'utf8')).toBe('tool');
  });
});
