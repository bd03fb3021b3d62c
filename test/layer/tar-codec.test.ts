// The tar header codec: what encodeHeader writes, readTar reads back identically, GNU tar agrees,
// and PAX records appear only for values ustar cannot hold.

import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeader, endOfArchive, padding, type TarEntry } from '../../src/layer/tar-header.js';
import { readTar } from '../../src/layer/tar-reader.js';
import { gnuTarList } from './tree.js';

async function readAll(bytes: Buffer, chunkSize = 7919) {
  const chunks = Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, i) => bytes.subarray(i * chunkSize, (i + 1) * chunkSize));
  const out: { entry: TarEntry; data: Buffer }[] = [];
  for await (const { entry, body } of readTar(Readable.from(chunks))) {
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(chunk);
    out.push({ entry, data: Buffer.concat(parts) });
  }
  return out;
}

function archive(entries: { entry: TarEntry; data: Buffer }[]): Buffer {
  return Buffer.concat([
    ...entries.flatMap(({ entry, data }) => [encodeHeader(entry), data, Buffer.alloc(padding(data.length))]),
    endOfArchive(),
  ]);
}

const segment = fc.stringMatching(/^[a-zA-Z0-9._ -]{1,40}$/).filter((s) => s !== '.' && s !== '..');
const unicodeSegment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !/[/\0]/.test(s) && s !== '.' && s !== '..' && !s.includes('\uFFFD'));
const path = fc.array(fc.oneof(segment, unicodeSegment), { minLength: 1, maxLength: 8 }).map((parts) => parts.join('/'));

const entryArb = fc.record({
  path,
  type: fc.constantFrom('file', 'directory', 'symlink', 'link', 'char', 'fifo') as fc.Arbitrary<TarEntry['type']>,
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  gid: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  mtime: fc.integer({ min: 0, max: 2 ** 33 - 1 }),
  linkname: path,
  data: fc.uint8Array({ maxLength: 2000 }),
  xattrs: fc.array(fc.tuple(fc.stringMatching(/^user\.[a-z]{1,10}$/), fc.uint8Array({ maxLength: 64 })), { maxLength: 3 }),
});

describe('tar codec', () => {
  it('reads back exactly what it writes, however the stream is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4096 }), async (raws, chunk) => {
        const entries = raws.map((raw) => {
          const data = raw.type === 'file' ? Buffer.from(raw.data) : Buffer.alloc(0);
          const entry: TarEntry = { type: raw.type, path: raw.path, mode: raw.mode, uid: raw.uid, gid: raw.gid, size: data.length, mtime: raw.mtime };
          if (raw.type === 'symlink' || raw.type === 'link') entry.linkname = raw.linkname;
          if (raw.type === 'char') Object.assign(entry, { devmajor: 4, devminor: 1 });
          if (raw.xattrs.length > 0) entry.xattrs = new Map(raw.xattrs.map(([k, v]) => [k, Buffer.from(v)]));
          return { entry, data };
        });
        const read = await readAll(archive(entries), chunk);
        expect(read).toEqual(entries);
      }),
      { numRuns: 150 },
    );
  });

  it('uses PAX only for values ustar cannot hold, and GNU tar reads them', async () => {
    const plain: TarEntry = { type: 'file', path: 'a'.repeat(100), mode: 0o644, uid: 2097151, gid: 0, size: 0, mtime: 0 };
    expect(encodeHeader(plain).length).toBe(512);
    const long = { ...plain, path: 'b'.repeat(101), uid: 2097152 };
    const encoded = encodeHeader(long);
    expect(encoded.length).toBe(3 * 512);
    expect(encoded.toString('latin1')).toContain(`111 path=${'b'.repeat(101)}\n`);
    expect(encoded.toString('latin1')).toContain(' uid=2097152\n');
    expect(gnuTarList(Buffer.concat([encoded, endOfArchive()]))[0]).toMatch(/^-rw-r--r-- 2097152\/0 .* b{101}$/);
  });

  it('records sizes beyond 8 GiB in PAX', async () => {
    const huge: TarEntry = { type: 'file', path: 'big', mode: 0o644, uid: 0, gid: 0, size: 10 * 2 ** 30, mtime: 0 };
    const header = encodeHeader(huge);
    expect(header.toString('latin1')).toContain(` size=${10 * 2 ** 30}\n`);
    const iterator = readTar(Readable.from([header, Buffer.alloc(512)]))[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value!.entry.size).toBe(10 * 2 ** 30);
  });

  it('produces byte-identical headers for identical entries (no time, no user names)', () => {
    const entry: TarEntry = { type: 'directory', path: 'x/y', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 5 };
    const header = encodeHeader(entry);
    expect(header.equals(encodeHeader({ ...entry }))).toBe(true);
    expect(header.subarray(265, 329).every((b) => b === 0)).toBe(true);
    expect(header.subarray(0, 4).toString()).toBe('x/y/');
  });
});
