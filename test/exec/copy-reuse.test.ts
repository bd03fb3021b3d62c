// COPY again after a change in the context: files the earlier run wrote exactly as they would be
// written now are hard-linked from its snapshot, everything else is copied, the earlier tree is
// left as it was, and the layer is byte for byte the one a plain copy makes.

import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { copyIntoLayer } from '../../src/exec/index.js';
import { writeLayer } from '../../src/layer/write.js';
import { testdir } from '../helpers/testdir.js';
import { copyRequest } from './copy-helpers.js';

async function layerDigest(upperDir: string): Promise<string> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  return (await writeLayer(upperDir, sink, { sourceDateEpoch: 0, kind: 'overlay-upper' })).diffId;
}

const inode = (path: string) => lstatSync(path).ino;
const userXattr = (path: string) => execFileSync('getfattr', ['--absolute-names', '-n', 'user.note', '--only-values', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

describe('COPY with the result of an earlier run of it (reuseFrom)', () => {
  it('links exactly the unchanged files, leaves the earlier tree alone, and makes the same layer as a copy', async () => {
    const context = testdir({
      'src/same.txt': 'unchanged\n',
      'src/edited.txt': 'version 1\n',
      'src/chmodded.sh': 'echo hi\n',
      'src/labelled.txt': 'label me\n',
    });
    const at = (name: string) => join(context, 'src', name);
    const request = (upperDir: string, reuseFrom?: string) => copyRequest(context, upperDir, { sources: ['src'], dest: '/app/', reuseFrom });
    const before = testdir();
    await copyIntoLayer(request(before));

    // Same size and same mtime, other bytes: only the content tells the change.
    const { mtime } = lstatSync(at('edited.txt'));
    writeFileSync(at('edited.txt'), 'version 2\n');
    utimesSync(at('edited.txt'), mtime, mtime);
    chmodSync(at('chmodded.sh'), 0o755);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'new', at('labelled.txt')]);
    writeFileSync(at('added.txt'), 'new file\n');

    const after = testdir();
    await copyIntoLayer(request(after, before));
    const old = (name: string) => join(before, 'app', name);
    const now = (name: string) => join(after, 'app', name);
    expect(inode(now('same.txt'))).toBe(inode(old('same.txt')));
    for (const name of ['edited.txt', 'chmodded.sh', 'labelled.txt']) expect(inode(now(name)), name).not.toBe(inode(old(name)));
    expect(readFileSync(now('edited.txt'), 'utf8')).toBe('version 2\n');
    expect(lstatSync(now('chmodded.sh')).mode & 0o777).toBe(0o755);
    expect(userXattr(now('labelled.txt'))).toBe('new');
    expect(readFileSync(now('added.txt'), 'utf8')).toBe('new file\n');

    // The earlier tree is a snapshot: nothing of it changed.
    expect(readFileSync(old('edited.txt'), 'utf8')).toBe('version 1\n');
    expect(lstatSync(old('chmodded.sh')).mode & 0o777).toBe(0o644);
    expect(() => userXattr(old('labelled.txt'))).toThrow();

    const plain = testdir();
    await copyIntoLayer(request(plain));
    expect(await layerDigest(after)).toBe(await layerDigest(plain));
  });

  it('compares large files in chunks: an unchanged one is linked, one with a changed last byte is copied', async () => {
    const big = Buffer.alloc(9 << 20, 7);
    const context = testdir({ 'same.bin': { file: big }, 'edited.bin': { file: big } });
    const before = testdir();
    await copyIntoLayer(copyRequest(context, before));
    const edited = join(context, 'edited.bin');
    const { mtime } = lstatSync(edited);
    const changed = Buffer.from(big);
    changed[changed.length - 1] = 8;
    writeFileSync(edited, changed);
    utimesSync(edited, mtime, mtime);
    const after = testdir();
    await copyIntoLayer(copyRequest(context, after, { reuseFrom: before }));
    expect(inode(join(after, 'same.bin'))).toBe(inode(join(before, 'same.bin')));
    expect(inode(join(after, 'edited.bin'))).not.toBe(inode(join(before, 'edited.bin')));
    expect(readFileSync(join(after, 'edited.bin')).equals(changed)).toBe(true);
    expect(readFileSync(join(before, 'edited.bin')).equals(big)).toBe(true);
  });

  it('copies when the earlier result cannot be linked (another file system)', async () => {
    const context = testdir({ 'a.txt': 'same\n' });
    const before = mkdtempSync('/dev/shm/tsbuild-reuse-');
    onTestFinished(() => rmSync(before, { recursive: true, force: true }));
    await copyIntoLayer(copyRequest(context, before));
    const after = testdir();
    await copyIntoLayer(copyRequest(context, after, { reuseFrom: before }));
    expect(readFileSync(join(after, 'a.txt'), 'utf8')).toBe('same\n');
    expect(lstatSync(join(after, 'a.txt')).nlink).toBe(1);
  });

  it('a linked file whose source gained an xattr without another change is copied after all', async () => {
    const context = testdir({ 'cap.bin': 'binary\n' });
    const before = testdir();
    await copyIntoLayer(copyRequest(context, before, { sources: ['cap.bin'] }));
    // setfattr changes neither content, mode nor mtime: only the xattr comparison sees it.
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'x', join(context, 'cap.bin')]);
    const after = testdir();
    await copyIntoLayer(copyRequest(context, after, { sources: ['cap.bin'], reuseFrom: before }));
    expect(inode(join(after, 'cap.bin'))).not.toBe(inode(join(before, 'cap.bin')));
    expect(userXattr(join(after, 'cap.bin'))).toBe('x');
    expect(() => userXattr(join(before, 'cap.bin'))).toThrow();
  });
});
