// Reproducible by default: every example, built from two copies of itself (different
// directories, different file times) into two empty stores, gives byte-identical images.

import { readdirSync, utimesSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { writeTree } from '../helpers/testdir.js';
import { copyTree, openSession, type Session } from './session.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');

function testdirFor(session: Session, tree: Record<string, string>): string {
  const dir = join(session.dir, `ctx-${Object.keys(tree).length}-${Date.now()}`);
  writeTree(dir, tree);
  return dir;
}

/** Gives every file and dir of a tree a different mtime, as a fresh checkout on another day would. */
async function touchAll(dir: string, seconds: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) await touchAll(path, seconds);
    utimesSync(path, seconds, seconds);
  }
}

describe('reproducible builds of every example', () => {
  const sessions: Session[] = [];

  beforeAll(async () => {
    sessions.push(await openSession(), await openSession());
  });
  afterAll(() => sessions.forEach((s) => s.close()));

  for (const example of readdirSync(EXAMPLES)) {
    it(`examples/${example}: two empty stores, two directories, two times → identical bytes`, async () => {
      const results = [];
      for (const [i, session] of sessions.entries()) {
        const context = copyTree(join(EXAMPLES, example), join(session.dir, `copy-${i}`, example));
        await touchAll(context, 1_000_000_000 + i * 86_400 * 365);
        const archive = join(session.dir, `${example}.tar`);
        const built = await session.tsbuild(['build', '-q', '-t', example, '-o', `type=oci,dest=${archive}`, context]);
        expect(built.status, built.stderr).toBe(0);
        const inspected = JSON.parse((await session.tsbuild(['inspect', example])).stdout);
        results.push({ digest: built.stdout.trim(), inspected, archive: readFileSync(archive) });
      }
      const [a, b] = results as [typeof results[0], typeof results[0]];
      expect(b.digest).toBe(a.digest);
      expect(b.inspected.manifest.config.digest).toBe(a.inspected.manifest.config.digest);
      expect(b.inspected.manifest.layers).toEqual(a.inspected.manifest.layers);
      expect(b.archive.equals(a.archive)).toBe(true);
      expect(a.inspected.config.created).toBe('1970-01-01T00:00:00Z');
    });
  }

  it('a cache filled under one SOURCE_DATE_EPOCH never leaks its file times into a build under another', async () => {
    const [first, second] = sessions as [Session, Session];
    const context = testdirFor(first, { Dockerfile: 'FROM busybox\nRUN echo x > /x\n' });
    const clean = await second.tsbuild(['build', '-q', copyTree(context, join(second.dir, 'epoch-ctx'))], { env: { SOURCE_DATE_EPOCH: '1600000000' } });
    await first.tsbuild(['build', '-q', context], { env: { SOURCE_DATE_EPOCH: '1500000000' } });
    const afterOther = await first.tsbuild(['build', '-q', context], { env: { SOURCE_DATE_EPOCH: '1600000000' } });
    expect(afterOther.status, afterOther.stderr).toBe(0);
    expect(afterOther.stdout).toBe(clean.stdout);
  });

  it('SOURCE_DATE_EPOCH sets the image time and changes the digest', async () => {
    const [session] = sessions as [Session];
    const context = join(EXAMPLES, readdirSync(EXAMPLES)[0]!);
    const plain = await session.tsbuild(['build', '-q', context]);
    const stamped = await session.tsbuild(['build', '-q', '-t', 'stamped', context], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(stamped.status, stamped.stderr).toBe(0);
    expect(stamped.stdout).not.toBe(plain.stdout);
    const config = JSON.parse((await session.tsbuild(['inspect', 'stamped'])).stdout).config;
    expect(config.created).toBe('2023-11-14T22:13:20Z');
    expect(new Set(config.history.slice(-3).map((h: { created: string }) => h.created))).toEqual(new Set(['2023-11-14T22:13:20Z']));
  });
});
