// CI runs the quick variant of every benchmark, so a benchmark that broke is noticed before
// someone wants its numbers. Timings are not asserted here (DESIGN: speed is measured by
// benchmarks, as ratios, never by timed test assertions); only that each one runs.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/fixtures.js';

describe('npm run bench -- --quick', () => {
  // Benchmarks run dist/, which `npm run build` (scripts/setup.sh) makes; not rebuilt here,
  // since other suites run the same dist/ at the same time.
  beforeAll(() => {
    if (!existsSync(resolve(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run npm run build');
  });

  it('runs every benchmark that declares a quick variant, and each succeeds', () => {
    // The suite (bench/suite) has its own quick test (test/bench/quick.test.ts); running it twice at
    // once would only make the two runs fight over the peers' stores.
    const run = spawnSync(process.execPath, [resolve(REPO_ROOT, 'bench/run.js'), '--quick', '--except', 'suite'], { encoding: 'utf8', cwd: REPO_ROOT });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/build-engine\.js\s+ok/);
    for (const name of ['cold-', 'cached-', 'change-1-of-', 'parallel-4']) expect(run.stdout).toContain(name);
    for (const skipped of run.stdout.matchAll(/== (\S+): skipped: (.*)/g)) console.log(`bench ${skipped[1]} skipped: ${skipped[2]}`);
    // Each quick variant should take seconds; name the slow ones so they get trimmed.
    for (const row of run.stdout.matchAll(/^ {2}(\S+)\s+ok in ([\d.]+)s$/gm)) {
      if (Number(row[2]) > 20) console.log(`bench ${row[1]}: quick variant took ${row[2]}s (aim for a few seconds)`);
    }
  }, 300_000);
});
