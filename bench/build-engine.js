#!/usr/bin/env node
// Benchmarks of the build engine, each a real `tsbuild build` process against a real store,
// reported with a reference measured in the same run (this machine, this load):
//
//   cold-40     a 40-step recipe (RUN and COPY) into a store holding only the base image;
//               reference: the same number of bare sandbox runs (`tsbuild` minus the engine)
//   cached-40   the same build again, every step cached: target < 300 ms wall for the whole
//               command; reference: `tsbuild version` (process start and module loading)
//   change-1    one changed file in a 20,000-file context (COPY . then RUN); reference: the
//               same build with nothing changed
//   parallel-4  four CPU-bound stages (about 2 s of shell arithmetic each), against the same
//               four steps run one after another: target ≥ 1.8× on 2 cores. The stages are long
//               enough that the ratio measures parallelism: with 0.6 s stages the fixed cost of a
//               build (process start, the final stage's four COPY --from) capped it near 1.85×.
//
//   npm run build && node bench/build-engine.js [--quick] [--json] [--only cold,change,parallel] [--cli PATH/bin/tsbuild.js]
// Contenders are measured alternately (A B A B) and reported as medians.
// bench-quick: --quick

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measure } from './lib/process.js';
import { alternate, median } from './lib/stats.js';

const REPO = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    // Comma-separated: cold (cold-40 and cached-40), change, parallel.
    only: { type: 'string', default: 'cold,change,parallel' },
    // Another checkout's bin/tsbuild.js: a long run is then immune to rebuilds of dist/ here.
    cli: { type: 'string', default: join(REPO, 'bin/tsbuild.js') },
  },
});
const CLI = values.cli;
const ONLY = new Set(values.only.split(','));
for (const name of ONLY) {
  if (!['cold', 'change', 'parallel'].includes(name)) {
    console.error(`bench/build-engine: --only ${name}: expected cold, change or parallel`);
    process.exit(2);
  }
}
const QUICK = values.quick;
const SIZES = QUICK
  ? { steps: 4, files: 200, loop: 5_000, runs: 1 }
  : { steps: 40, files: 20_000, loop: 2_000_000, runs: 3 };

for (const needed of [join(CLI, '../../dist/index.js'), join(CLI, '../../native/build/tsbuild-sandbox')]) {
  if (!existsSync(needed)) {
    console.error(`bench/build-engine: ${needed} is missing; run \`npm run build\` first.`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** Runs the CLI; returns wall milliseconds; throws with its stderr when it fails. */
function tsbuild(root, args) {
  return measure(process.execPath, [CLI, '--root', root, ...args], { env: { PATH: process.env.PATH } }).ms;
}

/** Medians of two contenders measured alternately (A B A B), so both see the same machine load. */
async function versus(a, b) {
  const runs = await alternate({ a, b }, SIZES.runs);
  return [median(runs.a), median(runs.b)];
}

/** A store holding only `busybox:latest`, built from Debian's busybox-static; copied per use. */
function baseStore() {
  const rootfs = join(REPO, '.cache/fixtures/busybox-rootfs');
  if (!existsSync(join(rootfs, 'bin/busybox'))) execFileSync('bash', [join(REPO, 'fixtures/base/make-busybox-rootfs.sh'), rootfs]);
  const template = join(work, 'template-store');
  writeFileSync(join(work, 'base.Dockerfile'), 'FROM scratch\nCOPY / /\nCMD ["sh"]\n');
  tsbuild(template, ['build', '-q', '-t', 'busybox:latest', '-f', join(work, 'base.Dockerfile'), rootfs]);
  let copies = 0;
  return () => {
    const root = join(work, `store-${copies++}`);
    cpSync(template, root, { recursive: true });
    return root;
  };
}

function context(name, files) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function stepsRecipe(steps) {
  const files = {};
  const lines = ['FROM busybox'];
  for (let i = 0; i < steps; i++) {
    if (i % 2 === 0) {
      lines.push(`RUN echo step ${i} > /step-${i}`);
    } else {
      files[`files/f${i}.txt`] = `file ${i}\n`;
      lines.push(`COPY files/f${i}.txt /files/`);
    }
  }
  files.Dockerfile = lines.join('\n') + '\n';
  return context('steps', files);
}

function bigContext(count) {
  const files = { Dockerfile: 'FROM busybox\nCOPY . /ctx\nRUN find /ctx -type f | wc -l > /count\n' };
  for (let i = 0; i < count; i++) files[`d${Math.floor(i / 100)}/f${i}.txt`] = `content ${i}\n`;
  return context('big', files);
}

function cpuRecipes(loop) {
  const spin = (name) => `RUN i=0; while [ $i -lt ${loop} ]; do i=$((i+1)); done; echo ${name} > /${name}`;
  const parallel = ['a', 'b', 'c', 'd'].map((name) => `FROM busybox AS ${name}\n${spin(name)}\n`).join('\n')
    + '\nFROM busybox\n' + ['a', 'b', 'c', 'd'].map((name) => `COPY --from=${name} /${name} /${name}`).join('\n') + '\n';
  const serial = 'FROM busybox\n' + ['a', 'b', 'c', 'd'].map(spin).join('\n') + '\n';
  return { parallel: context('parallel', { Dockerfile: parallel }), serial: context('serial', { Dockerfile: serial }) };
}

const results = [];
function report(name, measured, reference, note) {
  results.push({ name, ms: Math.round(measured), referenceMs: Math.round(reference.ms), reference: reference.what, ratio: +(measured / reference.ms).toFixed(2), note });
}

const freshStore = baseStore();

// cold-40 and cached-40
if (ONLY.has('cold')) {
  const ctx = stepsRecipe(SIZES.steps);
  const sandbox = join(work, 'sandbox-ref.Dockerfile');
  writeFileSync(sandbox, `FROM busybox\n${Array.from({ length: SIZES.steps }, (_, i) => `RUN true ${i}`).join('\n')}\n`);
  const [cold, bare] = await versus(() => tsbuild(freshStore(), ['build', '-q', ctx]), () => tsbuild(freshStore(), ['build', '-q', '-f', sandbox, ctx]));
  report(`cold-${SIZES.steps}`, cold, { ms: bare, what: `${SIZES.steps} RUN true steps, cold` }, `${(cold / SIZES.steps).toFixed(0)} ms/step`);
  const warm = freshStore();
  tsbuild(warm, ['build', '-q', ctx]);
  const [cached, startup] = await versus(() => tsbuild(warm, ['build', '-q', ctx]), () => tsbuild(warm, ['version']));
  report(`cached-${SIZES.steps}`, cached, { ms: startup, what: 'tsbuild version' }, `target < 300 ms wall: ${cached < 300 ? 'met' : 'NOT met'}`);
}

// change-1 in a big context
if (ONLY.has('change')) {
  const ctx = bigContext(SIZES.files);
  const store = freshStore();
  tsbuild(store, ['build', '-q', ctx]);
  let n = 0;
  const [changed, unchanged] = await versus(
    () => {
      writeFileSync(join(ctx, 'd0/f0.txt'), `changed ${n++}\n`);
      return tsbuild(store, ['build', '-q', ctx]);
    },
    () => tsbuild(store, ['build', '-q', ctx]),
  );
  report(`change-1-of-${SIZES.files}`, changed, { ms: unchanged, what: 'same build, nothing changed' }, 'COPY . and the RUN after it re-run');
}

// parallel-4 against serial
if (ONLY.has('parallel')) {
  const { parallel, serial } = cpuRecipes(SIZES.loop);
  const store = freshStore();
  const [parallelMs, serialMs] = await versus(
    () => tsbuild(store, ['build', '-q', '--no-cache', parallel]),
    () => tsbuild(store, ['build', '-q', '--no-cache', serial]),
  );
  const speedup = serialMs / parallelMs;
  results.push({
    name: 'parallel-4', ms: Math.round(parallelMs), referenceMs: Math.round(serialMs), reference: 'the same 4 steps serially',
    ratio: +(parallelMs / serialMs).toFixed(2), note: `speed-up ${speedup.toFixed(2)}× on ${availableParallelism()} cores (target ≥ 1.8× on 2)`,
  });
}

if (values.json) {
  console.log(JSON.stringify({ quick: QUICK, results }, null, 2));
} else {
  console.log(`build engine${QUICK ? ' (quick)' : ''}: median of ${SIZES.runs} run(s), wall time of whole tsbuild processes`);
  for (const r of results) {
    console.log(`  ${r.name.padEnd(18)} ${String(r.ms).padStart(7)} ms   ${r.ratio.toFixed(2).padStart(6)}× ${r.reference} (${r.referenceMs} ms)   ${r.note}`);
  }
}
