// Two CI runners share one cache through the registry, with the real build engine: runner 1
// builds and exports every cache record (mode=max); runner 2, a fresh store with only the
// base image, imports them and builds the same recipe without running a single step.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { build, exportCache, importCache, loadImage, Store } from '../../src/index.js';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writeTree } from '../helpers/testdir.js';

let registry: TestRegistry;
let work: string;
let context: string;

async function runner(name: string): Promise<string> {
  const root = join(work, name);
  const store = await Store.open(root);
  await loadImage(store, await busyboxImageLayout(), { tag: 'busybox:latest' });
  await store.close();
  return root;
}

async function buildIn(storeRoot: string) {
  const events: BuildEvent[] = [];
  const result = await build({ contextDir: context, storeRoot }, (event) => events.push(event));
  return { result, ran: events.filter((e) => e.type === 'step.done').length, cached: events.filter((e) => e.type === 'step.cached').length };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tsbuild-build-cache-'));
  registry = await startRegistry();
  context = join(work, 'ctx');
  writeTree(context, {
    Dockerfile: 'FROM busybox\nRUN echo built > /made\nCOPY a.txt /a.txt\nENV MODE=ci\nRUN cat /made /a.txt > /both\n',
    'a.txt': 'context file\n',
  });
});

afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('a shared build cache between two stores', () => {
  it('runner 2 gets every step from runner 1 through the registry and makes the same image', async () => {
    const first = await buildIn(await runner('runner1'));
    expect(first.ran).toBeGreaterThanOrEqual(3);

    const store1 = await Store.open(join(work, 'runner1'));
    const entries = (await store1.cache.list()).map(({ key, record }) => ({ key, record, inOutput: true }));
    const ref = `${registry.host}/ci/app:cache`;
    const exported = await exportCache(store1, entries, { type: 'registry', ref, mode: 'max' }, { retryDelayMs: 20 });
    await store1.close();
    expect(exported.records).toBe(entries.length);

    const root2 = await runner('runner2');
    const store2 = await Store.open(root2);
    const imported = await importCache(store2, { type: 'registry', ref }, { retryDelayMs: 20, eager: true });
    imported.close();
    await store2.close();

    const second = await buildIn(root2);
    expect(second.ran).toBe(0);
    expect(second.cached).toBe(first.ran + first.cached);
    expect(second.result.digest).toBe(first.result.digest);
  });
});
