// Reliability: processes SIGKILLed at varying moments during ingest, snapshot creation,
// tagging, cache writes and prune leave a store that verify finds clean and the next run
// uses without repair; two processes loading at once (with a prune beside them) corrupt nothing.

import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store, imageLayers, load, prune, verify } from '../../src/store/index.js';
import { busyboxImageLayout, busyboxImageTar } from '../helpers/busybox-image.js';
import { tempDir } from './store-helpers.js';
import { killVictim, spawnVictim } from './victims.js';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function newRoot(): Promise<string> {
  const root = await tempDir();
  roots.push(root);
  return root;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition() && Date.now() < deadline; ) await sleep(20);
}

describe('crash safety', () => {
  it('SIGKILL at varying moments (work and prune) leaves a store verify finds clean', async () => {
    const root = await newRoot();
    // Delays spread over process start-up, the first ingest, snapshots and later iterations.
    const delays = [40, 90, 150, 220, 300, 380, 460, 550, 650, 800, 950, 1100];
    let completed = 0;
    for (const [round, delay] of delays.entries()) {
      const worker = spawnVictim(root, 'work');
      const pruner = round % 3 === 1 ? spawnVictim(root, 'prune') : undefined;
      // The last round waits for finished work first: on a loaded machine every fixed delay
      // may end before the process has done anything.
      if (round === delays.length - 1) await waitFor(() => worker.lines.length > 0, 60_000);
      await sleep(delay);
      await killVictim(worker);
      if (pruner) await killVictim(pruner);
      completed += worker.lines.length;
    }
    expect(completed).toBeGreaterThan(0); // the kills did land mid-work, not before any
    const store = await Store.open(root);
    const report = await verify(store);
    expect(report.problems).toEqual([]);
    expect(report.checked.tags).toBeGreaterThan(0);

    // The next run works without repair: load, unpack, prune (removing the leftovers), verify.
    await load(store, await busyboxImageLayout());
    const image = await store.getImage('busybox');
    expect(existsSync(join(await store.ensureSnapshot(imageLayers(image!)[0]!), 'bin/busybox'))).toBe(true);
    await prune(store);
    const after = await verify(store);
    expect(after.problems).toEqual([]);
    expect(after.leftovers).toEqual([]);
    await store.close();
  });

  it('two processes loading into one store at once, with a prune beside them, corrupt nothing', async () => {
    const root = await newRoot();
    const tar = await busyboxImageTar();
    const a = spawnVictim(root, 'load', tar, '6');
    const b = spawnVictim(root, 'load', await busyboxImageLayout(), '6');
    const pruner = spawnVictim(root, 'prune');
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    // On a loaded machine the loads can end before the pruner's first round: let it finish one.
    await waitFor(() => pruner.lines.length > 0, 60_000);
    await killVictim(pruner);
    expect(ea).toMatchObject({ code: 0 });
    expect(eb).toMatchObject({ code: 0 });
    expect(pruner.lines.length).toBeGreaterThan(0);
    const store = await Store.open(root);
    expect((await verify(store)).problems).toEqual([]);
    const tags = (await store.tags.list()).map((t) => t.reference);
    expect(tags.filter((t) => t.startsWith('docker.io/victim/load:'))).toHaveLength(12);
    await store.close();
  });
});
