// A full disk: the store root on an 8 MB tmpfs. Every write that does not fit fails with
// StoreError('no-space') and leaves no partial object, temp file or changed tag behind.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { MediaType } from '../../src/layer/index.js';
import { Store, load, verify } from '../../src/store/index.js';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { layerOf, tempDir } from './store-helpers.js';

let mountpoint: string;
let mountError: string | undefined;

beforeAll(async () => {
  mountpoint = await tempDir('tsbuild-full-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountpoint], { stdio: 'pipe' });
  } catch (error) {
    mountError = String((error as { stderr?: Buffer }).stderr ?? error);
  }
});

afterAll(async () => {
  if (!mountError) execFileSync('umount', ['-l', mountpoint]);
  await rm(mountpoint, { recursive: true, force: true });
});

function randomStream(bytes: number): Readable {
  let left = bytes;
  return new Readable({
    read() {
      const n = Math.min(left, 1 << 20);
      left -= n;
      this.push(n > 0 ? randomBytes(n) : null);
    },
  });
}

/** Fills the file system with one file until ENOSPC; returns its path. */
async function fillDisk(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const handle = await open(path, 'w');
  try {
    for (;;) await handle.write(Buffer.alloc(64 << 10));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
  return path;
}

async function expectNoSpace(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).kind).toBe('no-space');
  expect((error as StoreError).message).toContain('no space left');
  return error as StoreError;
}

describe('full disk', () => {
  it('fails each write with StoreError(no-space) and leaves nothing half-written', async (ctx) => {
    if (mountError) {
      console.warn(`skipped: cannot mount a tmpfs here: ${mountError}`);
      ctx.skip();
    }
    const root = join(mountpoint, 'store');
    const store = await Store.open(root);
    await load(store, await busyboxImageLayout());
    const blobsBefore = (await readdir(join(root, 'blobs/sha256'))).sort();

    // A blob larger than the disk: ENOSPC while streaming.
    await expectNoSpace(store.ingest(randomStream(16 << 20)));
    expect((await readdir(join(root, 'blobs/sha256'))).sort()).toEqual(blobsBefore);
    expect(await readdir(join(root, 'ingest'))).toEqual([]);

    // A layer whose blob fits but whose unpacked files do not.
    const big = await layerOf(store, { 'big.bin': randomBytes(3 << 20).toString('base64') });
    await expectNoSpace(store.ensureSnapshot(big));
    expect(await readdir(join(root, 'snapshots'))).toEqual([]);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);

    // A full disk: JSON blobs and tag updates fail, the old tags stay.
    const tagsBefore = await readFile(join(root, 'index.json'), 'utf8');
    const filler = await fillDisk(mountpoint);
    await expectNoSpace(store.putJson({ pad: 'x'.repeat(200_000) }, MediaType.ociConfig));
    const image = await store.getImage('busybox');
    await expectNoSpace(store.setTag(`many/${'x'.repeat(100)}:a`, image!.manifestDescriptor).then(async () => {
      // The last free block may have taken one tag: keep adding until the disk says no.
      for (let i = 0; i < 200; i++) await store.setTag(`many/${'x'.repeat(100)}:${i}`, image!.manifestDescriptor);
    }));
    expect(JSON.parse(await readFile(join(root, 'index.json'), 'utf8')).manifests.length).toBeGreaterThanOrEqual(JSON.parse(tagsBefore).manifests.length);
    expect((await readdir(root)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    await rm(filler);

    const report = await verify(store);
    expect(report.problems).toEqual([]);
    expect(report.leftovers).toEqual([]);
    await store.close();
  });
});
