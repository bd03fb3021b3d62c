// The content digest of COPY sources: it changes exactly when what the copy would write
// changes, and a warm hash reads only the files that changed.

import { chmodSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exceptionMayMatchBelow, hashCopySources, StatCache, type CopyHashSpec } from '../../src/exec/index.js';
import { sha256File } from '../../src/lib/digest.js';
import { testdir, type Tree } from '../helpers/testdir.js';

function spec(context: string, overrides: Partial<CopyHashSpec> = {}): CopyHashSpec {
  return { source: { kind: 'dir', path: context }, sources: ['.'], exclude: [], parents: false, ...overrides };
}

const tree: Tree = { 'a.txt': 'A', 'src/main.c': 'main', 'src/link': { symlink: 'main.c' }, 'empty/': '' };

describe('hashCopySources: what the digest covers', () => {
  it('is stable for the same files and changes with content, mode, name, type or link target', async () => {
    const context = testdir(tree);
    const base = await hashCopySources(spec(context));
    expect(await hashCopySources(spec(testdir(tree)))).toBe(base);

    writeFileSync(join(context, 'a.txt'), 'B');
    const content = await hashCopySources(spec(context));
    expect(content).not.toBe(base);

    chmodSync(join(context, 'a.txt'), 0o755);
    const mode = await hashCopySources(spec(context));
    expect(mode).not.toBe(content);

    rmSync(join(context, 'src/link'));
    writeFileSync(join(context, 'src/link'), 'main.c');
    expect(await hashCopySources(spec(context))).not.toBe(mode);

    rmSync(join(context, 'empty'), { recursive: true });
    expect(await hashCopySources(spec(context))).not.toBe(mode);
  });

  it('ignores files outside the selection, excluded by .dockerignore or --exclude', async () => {
    const context = testdir({ ...tree, 'notes.md': 'x', 'secret.key': 'k' });
    const filter = { isExcluded: (rel: string) => rel === 'secret.key' };
    const selected = spec(context, { sources: ['.'], exclude: ['*.md'], source: { kind: 'dir', path: context, filter } });
    const onlySrc = spec(context, { sources: ['src'] });
    const before = [await hashCopySources(selected), await hashCopySources(onlySrc)];
    writeFileSync(join(context, 'notes.md'), 'changed');
    writeFileSync(join(context, 'secret.key'), 'changed');
    writeFileSync(join(context, 'a.txt'), 'changed');
    expect(await hashCopySources(onlySrc)).toBe(before[1]);
    expect(await hashCopySources(selected)).not.toBe(before[0]);
    writeFileSync(join(context, 'a.txt'), 'A');
    expect(await hashCopySources(selected)).toBe(before[0]);
  });

  it('covers the modes of the source dirs --parents recreates', async () => {
    const context = testdir({ 'x/y/f': 'f' });
    const parents = spec(context, { sources: ['x/y/f'], parents: true });
    const before = await hashCopySources(parents);
    chmodSync(join(context, 'x'), 0o700);
    expect(await hashCopySources(parents)).not.toBe(before);
  });

  it('covers the requested owner and mode', async () => {
    const context = testdir(tree);
    const digests = new Set([
      await hashCopySources(spec(context)),
      await hashCopySources(spec(context, { chown: { uid: 1, gid: 1 } })),
      await hashCopySources(spec(context, { chown: { uid: 1, gid: 2 } })),
      await hashCopySources(spec(context, { chown: 'app' })),
      await hashCopySources(spec(context, { chmod: '755' })),
      await hashCopySources(spec(context, { parents: true })),
    ]);
    expect(digests.size).toBe(6);
  });

  it('keeps owners of another stage’s files in the digest', async () => {
    const layer = testdir({ 'app/f': { file: 'f', uid: 1, gid: 1 } });
    const source = { kind: 'layers' as const, lowerDirs: [layer] };
    const before = await hashCopySources(spec(layer, { source, sources: ['/app'] }));
    const other = testdir({ 'app/f': { file: 'f', uid: 2, gid: 1 } });
    expect(await hashCopySources(spec(other, { source: { kind: 'layers', lowerDirs: [other] }, sources: ['/app'] }))).not.toBe(before);
  });

  it('encodes source lists unambiguously (length-prefixed fields)', async () => {
    const context = testdir({ ab: '1', c: '2', a: '3', bc: '4' });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<string[]>(['ab', 'c'], ['a', 'bc'], ['a', 'bc', 'c'], ['ab']), fc.constantFrom<string[]>(['ab', 'c'], ['a', 'bc'], ['a', 'bc', 'c'], ['ab']), async (x, y) => {
        const same = x.join('|') === y.join('|');
        const [hx, hy] = [await hashCopySources(spec(context, { sources: x })), await hashCopySources(spec(context, { sources: y }))];
        expect(hx === hy).toBe(same);
      }),
      { numRuns: 20 },
    );
  });
});

describe('hashCopySources: the stat cache', () => {
  const later = () => Date.now() + 60_000;

  it('reads unchanged files once across builds, and re-reads exactly the changed one', async () => {
    const context = testdir({ 'a.txt': 'A', 'b.txt': 'B', 'd/c.txt': 'C' });
    const cacheFile = join(testdir(), 'stat-cache.json');
    const reads: string[] = [];
    const digestFile = async (path: string) => {
      reads.push(path);
      return (await sha256File(path)).digest;
    };

    const cold = await StatCache.open(cacheFile, { digestFile, now: later, contextDir: context });
    const first = await hashCopySources(spec(context), cold);
    await cold.save();
    expect([cold.hits, cold.misses, reads.length]).toEqual([0, 3, 3]);
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toMatchObject({ contextDir: context }); // prune's test of whether it is still needed

    reads.length = 0;
    const warm = await StatCache.open(cacheFile, { digestFile, now: later });
    expect(await hashCopySources(spec(context), warm)).toBe(first);
    expect([warm.hits, warm.misses, reads.length]).toEqual([3, 0, 0]);

    writeFileSync(join(context, 'b.txt'), 'b2');
    const changed = await StatCache.open(cacheFile, { digestFile, now: later });
    expect(await hashCopySources(spec(context), changed)).not.toBe(first);
    expect(reads).toEqual([join(context, 'b.txt')]);
  });

  it('does not trust a file modified just now (same-timestamp rewrites would go unseen)', async () => {
    const context = testdir({ 'a.txt': 'A' });
    const cache = await StatCache.open(undefined);
    await hashCopySources(spec(context), cache);
    await hashCopySources(spec(context), cache);
    expect(cache.hits).toBe(0);
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(context, 'a.txt'), old, old);
    const later = await StatCache.open(undefined, { now: () => Date.now() + 60_000 });
    await hashCopySources(spec(context), later);
    await hashCopySources(spec(context), later);
    expect([later.hits, later.misses]).toEqual([1, 1]);
  });

  it('drops entries this build did not use once the file outgrows its bound', async () => {
    const context = testdir({ 'a.txt': 'A', 'b.txt': 'B', 'c.txt': 'C' });
    const cacheFile = join(testdir(), 'stat-cache.json');
    const options = { now: later, maxEntries: 2 };
    const first = await StatCache.open(cacheFile, options);
    await hashCopySources(spec(context), first);
    await first.save();
    writeFileSync(join(context, 'a.txt'), 'A2');
    const onlyA = await StatCache.open(cacheFile, options);
    await hashCopySources(spec(context, { sources: ['a.txt'] }), onlyA);
    await onlyA.save();
    const all = await StatCache.open(cacheFile, options);
    await hashCopySources(spec(context), all);
    expect([all.hits, all.misses]).toEqual([1, 2]);
  });

  it('starts empty from a damaged cache file', async () => {
    const cacheFile = join(testdir(), 'stat-cache.json');
    writeFileSync(cacheFile, '{not json');
    const cache = await StatCache.open(cacheFile);
    const context = testdir({ 'a.txt': 'A' });
    expect(await hashCopySources(spec(context), cache)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('exceptionMayMatchBelow', () => {
  it('walks an excluded dir only where an exception could match below it', () => {
    const below = exceptionMayMatchBelow(['**', 'node_modules', '!src/app.ts', '!docs/*/keep.md', '!**/KEEP']);
    expect(['src', 'docs', 'docs/guide', 'node_modules', 'a/b/c'].map(below)).toEqual([true, true, true, true, true]);
    const narrow = exceptionMayMatchBelow(['*', '!src/app.ts', '!docs/*/keep.md']);
    expect(['src', 'docs', 'docs/guide', 'docs/guide/deep', 'node_modules', 'srcx'].map(narrow)).toEqual([true, true, true, false, false, false]);
    expect(exceptionMayMatchBelow(['node_modules'])('node_modules')).toBe(false);
  });
});
