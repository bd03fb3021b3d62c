// A COPY --from key hashes the files it selects from the stage; that digest is remembered
// under the stage's layer diffIDs, so a cached build does not walk the stage again. Real
// builds through build(), on a real store with the busybox base.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { build, loadImage, Store } from '../../src/index.js';
import { sha256 } from '../../src/lib/digest.js';
import type { CacheEntry } from '../../src/store/cache.js';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { writeTree } from '../helpers/testdir.js';

const recipe = (text: string) => ['FROM busybox AS src', `RUN mkdir /out && echo ${text} > /out/a && echo b > /out/b`, 'FROM busybox', 'COPY --from=src /out /out', ''].join('\n');

describe('COPY --from remembers the digest of what it selects', () => {
  let work: string;
  let storeRoot: string;
  let context: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tsbuild-copymemo-'));
    storeRoot = join(work, 'store');
    const store = await Store.open(storeRoot);
    await loadImage(store, await busyboxImageLayout(), { tag: 'busybox:latest' });
    await store.close();
    context = join(work, 'ctx');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function buildWith(text: string) {
    writeTree(context, { Dockerfile: recipe(text) });
    const events: BuildEvent[] = [];
    const result = await build({ contextDir: context, storeRoot }, (event) => events.push(event));
    const ran = events.flatMap((e) => (e.type === 'step.done' ? [e.step] : []));
    return { digest: result.digest, ran: ran.length };
  }

  async function withStore<T>(use: (store: Store) => Promise<T>): Promise<T> {
    const store = await Store.open(storeRoot);
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }

  const memos = () => withStore(async (store) => (await store.cache.list()).filter((entry: CacheEntry) => entry.key.startsWith('tsbuild.copy-sources:')));

  it('is used by the next build, and a changed stage is hashed anew', async () => {
    const first = await buildWith('one');
    expect(first.ran).toBe(2);
    const [memo, ...others] = await memos();
    expect(others).toEqual([]);
    expect(memo!.record.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    expect(await buildWith('one')).toEqual({ digest: first.digest, ran: 0 });

    // Proof that the second build read the record rather than the files: a different remembered
    // digest changes the COPY's key, so that step runs again (and makes the same image).
    await withStore((store) => store.putCacheRecord(memo!.key, { ...memo!.record, digest: sha256('not what the stage holds') }));
    expect(await buildWith('one')).toEqual({ digest: first.digest, ran: 1 });

    const changed = await buildWith('two');
    expect(changed.ran).toBe(2);
    expect(changed.digest).not.toBe(first.digest);
    expect((await memos()).length).toBe(2);
  });
});
