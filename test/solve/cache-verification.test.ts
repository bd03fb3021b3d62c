// A cache record whose layer is damaged is a miss and the step runs again: never a wrong
// layer in an image. Real builds through build(), on a real store with the busybox base.

import fc from 'fast-check';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { build, loadImage, Store, verifyStore } from '../../src/index.js';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { writeTree } from '../helpers/testdir.js';

describe('cache records are verified before use', () => {
  let work: string;
  let storeRoot: string;
  let context: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tsbuild-cacheverify-'));
    storeRoot = join(work, 'store');
    const store = await Store.open(storeRoot);
    await loadImage(store, await busyboxImageLayout(), { tag: 'busybox:latest' });
    await store.close();
    context = join(work, 'ctx');
    writeTree(context, { Dockerfile: 'FROM busybox\nRUN echo cached > /made && echo more > /more\n' });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function buildOnce() {
    const events: BuildEvent[] = [];
    const result = await build({ contextDir: context, storeRoot }, (event) => events.push(event));
    return { result, ran: events.filter((e) => e.type === 'step.done').length, cached: events.filter((e) => e.type === 'step.cached').length };
  }

  async function runLayer() {
    const store = await Store.open(storeRoot);
    const { result } = await buildOnce();
    const layer = { descriptor: result.image.manifest.layers.at(-1)!, diffId: result.image.config.rootfs.diff_ids.at(-1)! };
    return { store, layer, digest: result.digest, blob: store.blobPath(layer.descriptor.digest), snapshot: store.layout.snapshot(layer.diffId) };
  }

  it('a corrupted layer blob (same size) whose snapshot is gone is a miss; the rebuild heals the store', async () => {
    const first = await runLayer();
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (position, flip) => {
        const size = statSync(first.blob).size;
        const fd = openSync(first.blob, 'r+');
        const byte = Buffer.alloc(1);
        readSync(fd, byte, 0, 1, position % size);
        writeSync(fd, Buffer.from([byte[0]! ^ flip]), 0, 1, position % size);
        closeSync(fd);
        rmSync(first.snapshot, { recursive: true, force: true });
        const again = await buildOnce();
        expect(again.ran).toBe(1);
        expect(again.result.digest).toBe(first.digest);
      }),
      { numRuns: 4 },
    );
    const report = await verifyStore(first.store);
    expect(report.problems).toEqual([]);
    await first.store.close();
  });

  it('a layer blob that is missing or truncated is a miss', async () => {
    const { store, blob, digest } = await runLayer();
    rmSync(blob);
    const afterRemoval = await buildOnce();
    expect(afterRemoval.ran).toBe(1);
    expect(afterRemoval.result.digest).toBe(digest);
    writeFileSync(blob, 'truncated');
    const afterTruncation = await buildOnce();
    expect(afterTruncation.ran).toBe(1);
    expect(afterTruncation.result.digest).toBe(digest);
    await store.close();
  });

  it('an intact cache is a hit: nothing runs', async () => {
    await buildOnce();
    const again = await buildOnce();
    expect(again.ran).toBe(0);
    expect(again.cached).toBe(1);
  });
});
