// The Dockerfile conformance suite: every case in fixtures/conformance/ is built by tsbuild on
// the busybox base, exported as an OCI archive, canonicalised to a listing, and compared with
// what Docker's builder (BuildKit) made of the same case (expected.txt, written by
// scripts/conformance-reference.mjs, or by hand from the Dockerfile reference where the
// BuildKit available here is older). Cases expected to fail must fail with a clear error.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { runCli } from '../helpers/run-cli.js';
// @ts-expect-error plain JS helper shared with scripts/conformance-reference.mjs
import { listImage } from '../helpers/image-listing.mjs';
// @ts-expect-error plain JS helper shared with scripts/conformance-reference.mjs
import { diffListings, formatExpected } from '../helpers/conformance.mjs';

const CASES = resolve(import.meta.dirname, '../../fixtures/conformance');

interface CaseMeta {
  flags: string[];
  /** `prebuild: TAG FILE`: FILE (in the case dir) built and tagged TAG first, for FROM TAG. */
  prebuilds: Array<{ tag: string; file: string }>;
  /** Must-fail cases: the line the error points at, and what its message says. */
  failsAt?: string;
  failsWith?: RegExp;
  pending?: string;
}

function readMeta(dir: string): CaseMeta {
  const file = join(dir, 'case.txt');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const flags: string[] = [];
  const prebuilds: CaseMeta['prebuilds'] = [];
  let pending: string | undefined;
  let failsAt: string | undefined;
  let failsWith: RegExp | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-z-]+):\s*(.+)$/.exec(line.trim());
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'target' || key === 'build-arg') flags.push(`--${key}`, value);
    if (key === 'secret') flags.push('--secret', value.replace(/src=([^,]+)/, (_, src: string) => `src=${join(dir, src)}`));
    if (key === 'pending') pending = value;
    if (key === 'fails-at') failsAt = value;
    if (key === 'fails-with') failsWith = new RegExp(value);
    if (key === 'prebuild') {
      const [tag, file] = value.split(/\s+/) as [string, string];
      prebuilds.push({ tag, file: join(dir, file) });
    }
  }
  return { flags, prebuilds, failsAt, failsWith, pending };
}

describe('Dockerfile conformance with BuildKit', () => {
  let work: string;
  let store: string;
  let baseListing: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tsbuild-conformance-'));
    store = join(work, 'store');
    const layout = await busyboxImageLayout();
    const loaded = await runCli(['load', '--root', store, '-t', 'busybox:latest', layout]);
    expect(loaded.status, loaded.stderr).toBe(0);
    baseListing = (await listImage(layout)).listing;
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  for (const name of readdirSync(CASES).sort()) {
    const dir = join(CASES, name);
    const meta = readMeta(dir);
    const expected = readFileSync(join(dir, 'expected.txt'), 'utf8');
    const mustFail = expected.startsWith('error\n');
    const test = meta.pending ? it.skip : it;
    if (meta.pending) console.log(`conformance ${name}: skipped, pending: ${meta.pending}`);
    test(`${name}${mustFail ? ' (must fail)' : ''}`, async () => {
      const context = existsSync(join(dir, 'context')) ? join(dir, 'context') : dir;
      const archive = join(work, `${name}.oci.tar`);
      for (const { tag, file } of meta.prebuilds) {
        const base = await runCli(['build', '--root', store, '--progress', 'plain', '-f', file, '-t', tag, context]);
        expect(base.status, base.stderr).toBe(0);
      }
      const result = await runCli([
        'build', '--root', store, '--progress', 'plain', '-f', join(dir, 'Dockerfile'),
        '--output', `type=oci,dest=${archive}`, ...meta.flags, context,
      ]);
      if (mustFail) {
        expect(result.status, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/^(error|ERROR): /m);
        expect(meta.failsWith, 'a must-fail case names its error with fails-with:').toBeDefined();
        expect(result.stderr).toMatch(meta.failsWith!);
        expect(result.stderr).toContain(`Dockerfile:${meta.failsAt}:`);
        expect(result.stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
        return;
      }
      expect(result.status, result.stderr).toBe(0);
      const image = await listImage(archive);
      expect(formatExpected(diffListings(baseListing, image.listing), image.config)).toBe(expected);
      if (name === 'run-mount-secret') {
        expect(readFileSync(archive).includes('s3cr3t-value')).toBe(false);
      }
    });
  }
});
