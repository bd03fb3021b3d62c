// Edge cases of writing and extracting that the round-trip tests do not reach.

import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { extractLayer } from '../../src/layer/index.js';
import { dir, file, tar } from '../../fixtures/tars/build.js';
import { describeTree, gnuTarList, layerBytes, sh, streamOf, tempDir } from './tree.js';

/** A chain of `a` directories `depth` deep under `root`; past PATH_MAX, so only by relative chdir. */
function deepTree(root: string, depth: number): void {
  const script = `process.chdir(process.argv[1]); for (let i = 0; i < ${depth}; i++) { require('fs').mkdirSync('a', { recursive: true }); process.chdir('a'); }`;
  execFileSync(process.execPath, ['-e', script, root]);
}

async function layerError(promise: Promise<unknown>): Promise<LayerError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LayerError);
  return error as LayerError;
}

describe('writeLayer edges', () => {
  it('stores hardlinked data under the first path in sort order, links for the rest', async () => {
    const source = tempDir();
    sh('echo data > z && ln z b && ln z a', source);
    const listing = gnuTarList((await layerBytes(source)).bytes);
    expect(listing.map((l) => l.replace(/^.* \d\d:\d\d /, ''))).toEqual(['a', 'b link to a', 'z link to a']);
  });

  it('orders siblings by UTF-8 bytes, not UTF-16 code units', async () => {
    const source = tempDir();
    for (const name of ['\u{1F600}', '\uFF01', 'b', 'B', 'a-b', 'a']) writeFileSync(join(source, name), '');
    mkdirSync(join(source, 'a.d'));
    const listing = gnuTarList((await layerBytes(source)).bytes).map((l) => l.replace(/^.* \d\d:\d\d /, ''));
    expect(listing).toEqual(['B', 'a', 'a-b', 'a.d/', 'b', '\uFF01', '\u{1F600}']);
  });

  it('carries extended attributes of files with awkward names (newline, backslash, spaces, UTF-8) both ways', async () => {
    const source = tempDir();
    const name = 'ä b\nc\\d=e';
    writeFileSync(join(source, name), 'x');
    const { applyXattrs } = await import('../../src/layer/xattr.js');
    await applyXattrs([[join(source, name), new Map([['user.odd name\\x', Buffer.from([0, 1, 255])]])]]);
    const layer = await layerBytes(source);
    const dest = tempDir();
    await extractLayer(streamOf(layer.bytes), dest, { whiteouts: 'overlay' });
    expect(describeTree(dest, { mtimes: false })).toEqual(describeTree(source, { mtimes: false }));
    expect(describeTree(dest)[name]).toContain('xattrs=user.odd');
  });

  it('maps the rootOwner to 0:0 and keeps other owners', async () => {
    const source = tempDir();
    sh('touch mine theirs && chown 1000:1000 mine && chown 2000:2000 theirs', source);
    const listing = gnuTarList((await layerBytes(source, { rootOwner: { uid: 1000, gid: 1000 } })).bytes);
    expect(listing[0]).toMatch(/ 0\/0 .* mine$/);
    expect(listing[1]).toMatch(/ 2000\/2000 .* theirs$/);
  });

  it('keeps real character devices in overlay-upper mode; only 0/0 is a whiteout', async () => {
    const source = tempDir();
    sh('mknod null c 1 3 && mknod gone c 0 0', source);
    const listing = gnuTarList((await layerBytes(source, { kind: 'overlay-upper' })).bytes);
    expect(listing[0]).toMatch(/^-.* \.wh\.gone$/);
    expect(listing[1]).toMatch(/^c.* 1,3 .* null$/);
  });

  it('refuses a missing source, and a non-UTF-8 file name, with LayerErrors', async () => {
    expect((await layerError(layerBytes('/nonexistent/tsbuild'))).code).toBe('E_LAYER_SOURCE');
    const source = tempDir();
    sh("touch \"$(printf 'b\\377a')\"", source);
    const error = await layerError(layerBytes(source));
    expect(error.message).toMatch(/not UTF-8/);
  });

  it('refuses an overlay upper dir that depends on its lower layers (redirect_dir, metacopy)', async () => {
    const source = tempDir();
    sh('mkdir moved && setfattr -n trusted.overlay.redirect -v /orig moved', source);
    const error = await layerError(layerBytes(source, { kind: 'overlay-upper' }));
    expect(error.message).toMatch(/trusted.overlay.redirect/);
    expect(error.hint).toMatch(/redirect_dir=off/);
  });

  it('refuses a real file named .wh.* (a reader would take it for a whiteout)', async () => {
    const source = tempDir();
    sh('mkdir d && touch d/.wh.secret', source);
    const error = await layerError(layerBytes(source));
    expect(error.message).toMatch(/\.wh\.secret.*reserved for whiteouts/);
  });

  it('walks 4,096-deep directories without recursion and fails cleanly past PATH_MAX', async () => {
    const source = tempDir();
    deepTree(source, 4096);
    const error = await layerError(layerBytes(source));
    expect(error.message).toMatch(/too long|File name too long/);
  });
});

describe('cancellation', () => {
  it('writeLayer and extractLayer stop with a CancelledError when their signal aborts', async () => {
    const { CancelledError } = await import('../../src/errors.js');
    const { writeLayer } = await import('../../src/layer/index.js');
    const { Writable, Readable } = await import('node:stream');
    const source = tempDir();
    sh('for i in $(seq 50); do head -c 100000 /dev/zero > f$i; done', source);
    const controller = new AbortController();
    let written = 0;
    const slow = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        if (written > 1_000_000) controller.abort();
        setImmediate(callback);
      },
    });
    await expect(writeLayer(source, slow, { sourceDateEpoch: 0, kind: 'directory', signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(slow.destroyed).toBe(true);

    const layer = (await layerBytes(source)).bytes;
    const stop = new AbortController();
    let served = 0;
    const input = new Readable({
      read() {
        const chunk = layer.subarray(served, served + 65_536);
        served += chunk.length;
        if (served > 1_000_000) stop.abort();
        this.push(chunk.length > 0 ? chunk : null);
      },
    });
    await expect(extractLayer(input, tempDir(), { whiteouts: 'overlay', signal: stop.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(served).toBeLessThan(layer.length);
  });
});

describe('extractLayer edges', () => {
  it('replaces a very deep directory by a file without recursion', async () => {
    const root = tempDir();
    const parts = [];
    for (let depth = 1, path = 'a'; depth <= 40; depth++, path += '/a') parts.push(dir(path));
    deepTree(root, 1000);
    await extractLayer(streamOf(tar(...parts, file('a', 'flat'))), root, { whiteouts: 'overlay' });
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('flat');
  });

  it('apply mode: an opaque marker after new children keeps them and drops the old', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'd'));
    writeFileSync(join(root, 'd/old'), 'old');
    await extractLayer(streamOf(tar(dir('d'), file('d/new', 'new'), file('d/.wh..wh..opq', ''))), root, { whiteouts: 'apply' });
    expect(Object.keys(describeTree(root))).toEqual(['d', 'd/new']);
  });

  it('apply mode: an opaque marker hides lower content below directories this layer only passes through', async () => {
    const root = tempDir();
    sh('mkdir -p d/sub && echo old > d/sub/old && echo old > d/old', root);
    await extractLayer(streamOf(tar(file('d/sub/new', 'new'), file('d/.wh..wh..opq', ''))), root, { whiteouts: 'apply' });
    expect(Object.keys(describeTree(root))).toEqual(['d', 'd/sub', 'd/sub/new']);
  });

  it('whiteouts spare what the same layer created (image-spec), in both modes', async () => {
    const layer = tar(file('kept', 'mine'), file('.wh.kept', ''), file('.wh.lower', ''));
    const applied = tempDir();
    writeFileSync(join(applied, 'lower'), 'lower');
    await extractLayer(streamOf(layer), applied, { whiteouts: 'apply' });
    expect(Object.keys(describeTree(applied))).toEqual(['kept']);
    const overlay = tempDir();
    await extractLayer(streamOf(layer), overlay, { whiteouts: 'overlay' });
    expect(readFileSync(join(overlay, 'kept'), 'utf8')).toBe('mine');
    expect(describeTree(overlay)['lower']).toMatch(/^20000 .* rdev=0$/);
  });

  it("'none' mode extracts .wh. names as ordinary files (ADD archives, build contexts)", async () => {
    const root = tempDir();
    writeFileSync(join(root, 'lower'), 'lower');
    await extractLayer(streamOf(tar(file('.wh.lower', 'data'), file('d/.wh..wh..opq', 'x'))), root, { whiteouts: 'none' });
    expect(readFileSync(join(root, '.wh.lower'), 'utf8')).toBe('data');
    expect(readFileSync(join(root, 'lower'), 'utf8')).toBe('lower');
    expect(readFileSync(join(root, 'd/.wh..wh..opq'), 'utf8')).toBe('x');
  });

  it('passes a store error from the input through with its kind', async () => {
    const root = tempDir();
    const { StoreError } = await import('../../src/errors.js');
    const { Readable } = await import('node:stream');
    const input = new Readable({
      read() {
        this.push(tar(file('a', 'x'.repeat(10_000))).subarray(0, 2048));
        this.destroy(new StoreError('corrupt', 'blob sha256:abc does not match its digest'));
      },
    });
    const error = await extractLayer(input, root, { whiteouts: 'overlay' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as InstanceType<typeof StoreError>).kind).toBe('corrupt');
  });

  it('passes on an input error raised before it starts reading, with no stray error', async () => {
    // A small corrupt blob fails its verification as soon as it is opened, while extraction is
    // still awaiting its set-up; vitest fails the run on an error nobody listens to.
    const root = tempDir();
    const { StoreError } = await import('../../src/errors.js');
    const { PassThrough } = await import('node:stream');
    const input = new PassThrough();
    const extraction = extractLayer(input, root, { whiteouts: 'overlay' }).catch((e: unknown) => e);
    input.destroy(new StoreError('corrupt', 'blob sha256:abc does not match its digest'));
    expect(await extraction).toMatchObject({ kind: 'corrupt' });
  });

  it('skips, with a warning, attributes the file system refuses (user.* on a symlink)', async () => {
    const root = tempDir();
    const { pax, symlink } = await import('../../fixtures/tars/build.js');
    const layer = tar(pax({ 'SCHILY.xattr.user.x': '1' }), symlink('l', 'target'), pax({ 'SCHILY.xattr.user.y': '2' }), file('f'));
    const result = await extractLayer(streamOf(layer), root, { whiteouts: 'overlay' });
    expect(result.warnings).toEqual([`extended attributes not set: ${join(root, 'l')}: Operation not permitted`]);
    expect(describeTree(root)['f']).toContain('user.y=0x32');
  });

  it('does not carry extended attributes over to a later entry of the same path', async () => {
    const root = tempDir();
    const { pax } = await import('../../fixtures/tars/build.js');
    await extractLayer(streamOf(tar(pax({ 'SCHILY.xattr.user.stale': 'x' }), file('f', 'one'), file('f', 'two'))), root, { whiteouts: 'overlay' });
    expect(describeTree(root)['f']).not.toContain('xattrs');
  });

  it('sets directory mtimes after their children were written', async () => {
    const root = tempDir();
    await extractLayer(streamOf(tar(dir('d'), file('d/f', 'x', { mtime: 1_000 }))), root, { whiteouts: 'overlay' });
    expect(Math.floor(lstatSync(join(root, 'd')).mtimeMs / 1000)).toBe(1_600_000_000);
    expect(Math.floor(lstatSync(join(root, 'd/f')).mtimeMs / 1000)).toBe(1_000);
  });

  it('refuses to start when the destination does not exist', async () => {
    const error = await layerError(extractLayer(streamOf(tar(file('f'))), '/nonexistent/tsbuild-dest', { whiteouts: 'overlay' }));
    expect(error.code).toBe('E_LAYER_DEST');
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
