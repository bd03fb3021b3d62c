// writeLayer → extractLayer round trips on real trees and a real overlayfs upper dir; GNU tar
// and tar-stream read what writeLayer writes.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extract as tarStreamExtract } from 'tar-stream';
import { extractLayer, MediaType } from '../../src/layer/index.js';
import { describeTree, gnuTarList, layerBytes, sh, streamOf, tempDir } from './tree.js';

const EPOCH = 1_700_000_000;
const LONG = `${'long-directory-name/'.repeat(6)}${'f'.repeat(120)}`;

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((field) => typeof field === 'string');
}

/** tar-stream's `header.pax` (typed `unknown`): absent, or the entry's PAX records as strings. */
function paxRecords(pax: unknown): Record<string, string> | undefined {
  if (pax === undefined || pax === null) return undefined;
  if (!isStringRecord(pax)) throw new TypeError(`PAX records are not strings: ${JSON.stringify(pax)}`);
  return pax;
}

/** A tree with one of everything a layer carries. */
function richTree(): string {
  const dir = tempDir();
  sh(
    `
    mkdir -p bin etc/empty "${LONG.split('/').slice(0, -1).join('/')}" ünïcode
    printf 'hello\\n' > etc/hello
    head -c 200000 /dev/urandom > bin/big
    cp /bin/true bin/prog && chmod 4755 bin/prog
    printf x > "${LONG}"
    printf y > ünïcode/ä
    ln bin/big bin/big-link
    ln -s ../etc/hello bin/rel-link
    ln -s /${'target/'.repeat(20)}abs bin/long-link
    mkfifo run-fifo
    mknod dev-null c 1 3
    python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('sock')" 2>/dev/null || true
    chown 3000000:4000000 etc/hello
    chmod 0750 etc/empty
    setfattr -n user.note -v hi etc/hello
    setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 bin/prog
    touch -d @1600000000 etc/hello
    touch -d @1800000000 bin/big
    touch -h -d @1600000000 bin/rel-link
    touch -d @1500000000 etc/empty
    `,
    dir,
  );
  return dir;
}

describe('writeLayer', () => {
  it('writes a tar GNU tar reads, sorted, numeric owners, mtimes clamped, PAX only for long values', async () => {
    const source = richTree();
    const { bytes, diffId, size } = await layerBytes(source, { sourceDateEpoch: EPOCH });
    expect(size).toBe(bytes.length);
    expect(diffId).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    const listing = gnuTarList(bytes);
    const names = listing.map((line) => line.replace(/^.*? \d{4}-\d\d-\d\d \d\d:\d\d /, ''));
    expect(names).toContain('etc/hello');
    expect(names.find((n) => n.startsWith('bin/big-link'))).toBe('bin/big-link link to bin/big');
    expect(names).toContain(LONG);
    expect(names.some((n) => n.startsWith('sock'))).toBe(false);
    expect(listing.find((l) => l.endsWith(' etc/hello'))).toMatch(/^-rw-r--r-- 3000000\/4000000 /);

    const entries: { name: string; mtime: number; uname?: string; pax?: Record<string, string> }[] = [];
    const parser = tarStreamExtract();
    parser.on('entry', (header, stream, next) => {
      entries.push({ name: header.name, mtime: header.mtime!.getTime() / 1000, uname: header.uname, pax: paxRecords(header.pax) });
      stream.resume();
      stream.on('end', next);
    });
    await new Promise<void>((resolve, reject) => parser.on('finish', resolve).on('error', reject).end(bytes));
    const hello = entries.find((e) => e.name === 'etc/hello')!;
    expect(hello.mtime).toBe(1600000000);
    expect(entries.find((e) => e.name === 'bin/big')!.mtime).toBe(EPOCH);
    expect(entries.every((e) => !e.uname)).toBe(true);
    // PAX only where needed: the xattr-bearing and long-named entries.
    expect(entries.filter((e) => e.pax).map((e) => e.name).sort()).toEqual(
      ['bin/long-link', 'bin/prog', 'etc/hello', LONG, `${LONG.slice(0, LONG.lastIndexOf('/'))}/`].sort(),
    );
    expect(entries.find((e) => e.name === 'bin/prog')!.pax!['SCHILY.xattr.security.capability']).toBeDefined();
    // Depth-first, siblings bytewise sorted.
    const top = entries.map((e) => e.name.split('/')[0]).filter((n, i, all) => all.indexOf(n) === i);
    expect(top).toEqual([...top].sort((a, b) => Buffer.compare(Buffer.from(a!), Buffer.from(b!))));
  });

  it('gives the same bytes for the same tree, whatever the inode order and atime', async () => {
    const source = richTree();
    const first = await layerBytes(source);
    const copy = tempDir();
    sh(`cp -a --preserve=all . "${copy}"`, source);
    sh('cat bin/big etc/hello > /dev/null', copy);
    const second = await layerBytes(copy);
    expect(second.diffId).toBe(first.diffId);
    expect(second.bytes.equals(first.bytes)).toBe(true);
  });

  it('gzip is deterministic and both digests come from one pass', async () => {
    const source = richTree();
    const a = await layerBytes(source, { compression: 'gzip', compressionLevel: 6 });
    const b = await layerBytes(source, { compression: 'gzip', compressionLevel: 6 });
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(a.compressed!.digest).toBe(`sha256:${createHash('sha256').update(a.bytes).digest('hex')}`);
    expect(a.compressed!.mediaType).toBe(MediaType.ociLayerGzip);
    const plain = gunzipSync(a.bytes);
    expect(a.diffId).toBe(`sha256:${createHash('sha256').update(plain).digest('hex')}`);
    // gzip header: no mtime (bytes 4-7), no name flag.
    expect(a.bytes.readUInt32LE(4)).toBe(0);
    expect(a.bytes[3]! & 0x08).toBe(0);
  });
});

describe('extractLayer', () => {
  it('restores modes, owners, xattrs incl. security.capability, hardlinks, symlinks, devices and mtimes', async () => {
    const source = richTree();
    sh('rm -f sock', source);
    const layer = await layerBytes(source, { sourceDateEpoch: 2_000_000_000 });
    for (const [label, bytes] of [
      ['tar', layer.bytes],
      ['gzip', (await layerBytes(source, { sourceDateEpoch: 2_000_000_000, compression: 'gzip' })).bytes],
    ] as const) {
      const dest = tempDir();
      const result = await extractLayer(streamOf(bytes), dest, { whiteouts: 'overlay' });
      expect(result.diffId, label).toBe(layer.diffId);
      expect(result.size, label).toBe(layer.bytes.length);
      expect(describeTree(dest), label).toEqual(describeTree(source));
    }
  });

  it('round-trips the busybox root filesystem', async () => {
    const { busyboxRootfs } = await import('../helpers/fixtures.js');
    const source = busyboxRootfs();
    const layer = await layerBytes(source);
    const dest = tempDir();
    const result = await extractLayer(streamOf(layer.bytes), dest, { whiteouts: 'overlay' });
    expect(result.diffId).toBe(layer.diffId);
    expect(describeTree(dest, { mtimes: false })).toEqual(describeTree(source, { mtimes: false }));
    expect((await layerBytes(dest)).diffId).toBe(layer.diffId);
  });
});

describe('overlay upper dirs', () => {
  /** A real overlayfs upper dir: lower has a, d/b; the step deletes a, replaces d. */
  function realUpper(): { lower: string; upper: string } {
    const base = tempDir();
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((n) => join(base, n)) as [string, string, string, string];
    for (const d of [lower, upper, work, merged]) mkdirSync(d);
    sh('echo a > a && mkdir d && echo b > d/b && echo keep > k', lower);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    try {
      sh('rm a && rm -r d && mkdir d && echo c > d/c && echo new > n && setfattr -n user.x -v 1 n', merged);
    } finally {
      execFileSync('umount', [merged]);
    }
    return { lower, upper };
  }

  it('turns whiteouts and opaque dirs into OCI whiteouts and back', async () => {
    const { lower, upper } = realUpper();
    const layer = await layerBytes(upper, { kind: 'overlay-upper' });
    expect(gnuTarList(layer.bytes).map((l) => l.split(' ').pop())).toEqual(['.wh.a', 'd/', 'd/.wh..wh..opq', 'd/c', 'n']);

    // overlay mode: a lowerdir that, stacked on `lower`, shows the same as the step did.
    const snapshot = tempDir();
    const result = await extractLayer(streamOf(layer.bytes), snapshot, { whiteouts: 'overlay' });
    expect(result.diffId).toBe(layer.diffId);
    expect(describeTree(snapshot)['a']).toMatch(/^20000 0 0:0 .*rdev=0$/);
    expect(describeTree(snapshot)['d']).toContain('trusted.overlay.opaque=0x79');
    const again = await layerBytes(snapshot, { kind: 'overlay-upper' });
    expect(again.diffId).toBe(layer.diffId);
    // Both directions say which dirs are opaque, so the store can record it with the snapshot.
    expect([layer.opaqueDirs, result.opaqueDirs, again.opaqueDirs]).toEqual([['d'], ['d'], ['d']]);

    // apply mode: on a copy of lower, the whiteouts delete.
    const applied = tempDir();
    cpSync(lower, applied, { recursive: true });
    await extractLayer(streamOf(layer.bytes), applied, { whiteouts: 'apply' });
    expect(Object.keys(describeTree(applied)).sort()).toEqual(['d', 'd/c', 'k', 'n']);
  });

  it('does not export trusted.overlay.* attributes', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    sh('setfattr -n trusted.overlay.origin -v 0x00 f && setfattr -n user.kept -v 1 f', dir);
    const { bytes } = await layerBytes(dir, { kind: 'overlay-upper' });
    expect(bytes.includes('trusted.overlay')).toBe(false);
    expect(bytes.includes('SCHILY.xattr.user.kept')).toBe(true);
  });
});
