// Property: whatever symlinks the layers hold and whatever destination a COPY names, reads stay
// inside the source root and writes inside the upper dir. A canary dir beside them must stay
// untouched, and every resolved path must map into the root's own layers.

import { lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyIntoLayer, LayeredRoot } from '../../src/exec/index.js';
import { listTree, testdir } from '../helpers/testdir.js';
import { copyRequest } from './copy-helpers.js';

const NAMES = ['a', 'b', 'c'];
const TARGETS = ['/', '..', '../..', '../../../..', '/a', 'a/b', '../a', '/c/../..', '.', 'b', '/a/b/c'];
const CANARY = 'canary';

/** A random tree of dirs and symlinks, three levels deep at most, as a list of entries. */
const treeArb = fc.array(
  fc.record({
    path: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }),
    symlink: fc.option(fc.constantFrom(...TARGETS, `../${CANARY}`, `/../${CANARY}`), { nil: undefined }),
  }),
  { maxLength: 8 },
);

/** Makes the entries on the host without ever following a symlink it made (that would escape). */
function build(root: string, entries: { path: string[]; symlink?: string }[]): void {
  for (const { path, symlink } of entries) {
    const throughLink = path.slice(0, -1).some((_, i) => lstatSync(join(root, ...path.slice(0, i + 1)), { throwIfNoEntry: false })?.isSymbolicLink());
    if (throughLink || lstatSync(join(root, ...path), { throwIfNoEntry: false })) continue;
    mkdirSync(join(root, ...path.slice(0, -1)), { recursive: true });
    if (symlink === undefined) mkdirSync(join(root, ...path));
    else symlinkSync(symlink, join(root, ...path));
  }
}

/** A symlink loop is a clear error, not an escape. */
function loopIsFine(error: { code?: string }): undefined {
  expect(error.code).toBe('E_SYMLINK_LOOP');
  return undefined;
}

describe('confinement under random symlinks', () => {
  it('resolves every path to an entry of the root’s own layers', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.array(fc.constantFrom(...NAMES, '..', '.'), { maxLength: 6 }), async (entries, parts) => {
        const base = testdir({ [`${CANARY}/secret`]: 's' });
        const layer = join(base, 'layer');
        mkdirSync(layer);
        build(layer, entries);
        const root = new LayeredRoot([layer]);
        const resolved = await root.resolve('/' + parts.join('/'), { allowMissing: true }).catch(loopIsFine);
        if (resolved !== undefined) expect(resolved).toMatch(/^\//);
        const entry = resolved === undefined ? undefined : await root.lookup(resolved);
        if (entry) expect(entry.hostPath.startsWith(root.lowerDirs[0]!)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('writes a COPY only inside the upper dir, whatever the destination', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.array(fc.constantFrom(...NAMES, '..'), { minLength: 1, maxLength: 4 }), async (entries, parts) => {
        const base = testdir({ [`${CANARY}/`]: '' });
        const [lower, upper, context] = ['lower', 'upper', 'context'].map((name) => join(base, name)) as [string, string, string];
        for (const dir of [lower, upper, context]) mkdirSync(dir);
        writeFileSync(join(context, 'f'), 'f');
        build(lower, entries);
        const lowerBefore = listTree(lower);
        const dest = '/' + parts.join('/') + '/';
        await copyIntoLayer(copyRequest(context, upper, { sources: ['f'], dest, lowerDirs: [lower] })).catch((error: { code?: string }) => {
          // a symlink loop is an error; nothing else may fail
          loopIsFine(error);
        });
        expect(readdirSync(join(base, CANARY))).toEqual([]);
        expect(readdirSync(base).sort()).toEqual([CANARY, 'context', 'lower', 'upper']);
        expect(listTree(lower)).toEqual(lowerBefore);
      }),
      { numRuns: 25 },
    );
  });

  it('reads a COPY source only inside the context, whatever its symlinks', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.array(fc.constantFrom(...NAMES, '..', 'secret'), { minLength: 1, maxLength: 4 }), async (entries, parts) => {
        const base = testdir({ [`${CANARY}/secret`]: 'SECRET', 'secret': 'SECRET' });
        const [upper, context] = ['upper', 'context'].map((name) => join(base, name)) as [string, string];
        for (const dir of [upper, context]) mkdirSync(dir);
        build(context, entries);
        writeFileSync(join(context, 'inside'), 'inside');
        const copied = await copyIntoLayer(copyRequest(context, upper, { sources: [parts.join('/')], dest: '/out/' })).catch((error: { code?: string }) => {
          expect(['E_COPY_OUTSIDE_CONTEXT', 'E_COPY_SOURCE_MISSING', 'E_SYMLINK_LOOP']).toContain(error.code);
          return undefined;
        });
        if (copied) expect(listTree(upper).filter((line) => line.includes('SECRET'))).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
