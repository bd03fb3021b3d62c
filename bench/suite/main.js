#!/usr/bin/env node
// The benchmark suite of issue 10: every workload × case on tsbuild and, when installed, on
// buildah and dockerd's BuildKit, alternated A B A B with medians of several runs; physical
// references measured in the same run; targets evaluated per row. Writes a markdown table and
// JSON (bench/results/latest.{md,json}; --quick: $TMPDIR/tsbuild-bench-quick/; or --out DIR).
//
//   npm run build && bash scripts/peers.sh && node bench/suite/main.js [--quick] [--no-peers]
//     [--runs N] [--only WORKLOAD] [--out DIR] [--cli PATH/bin/tsbuild.js]
// bench-quick: --quick

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../lib/process.js';
import { alternate, median } from '../lib/stats.js';
import { baseCached, ensureBase } from './bases.js';
import { buildah, docker, tsbuild } from './builders.js';
import { measureReferences, namespaceFloorSteps } from './references.js';
import { markdown } from './report.js';
import { evaluate } from './targets.js';
import { WORKLOADS, sizes } from './workloads.js';

const REPO = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    peers: { type: 'boolean', default: true },
    verbose: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string' },
    // Quick runs (CI) must not overwrite the committed results of the last full run.
    out: { type: 'string' },
    // Another checkout's bin/tsbuild.js: a long run is then immune to rebuilds of dist/ here.
    cli: { type: 'string', default: join(REPO, 'bin/tsbuild.js') },
  },
  allowNegative: true,
});
const QUICK = values.quick;
const RUNS = Number(values.runs ?? (QUICK ? 1 : 3));
// Two cold builds at least: their digests tell whether the builder is reproducible.
const COLD_RUNS = Math.max(2, RUNS);
const SIZE = sizes(QUICK);
export const CASES = ['cold', 'warm', 'incremental', 'export', 'archive', 'replay'];

if (process.getuid() !== 0) {
  console.error('bench/suite: run as root (RUN steps and the namespace floor need it).');
  process.exit(2);
}

const work = mkdtempSync('/var/tmp/tsbuild-bench-suite-');
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const log = (text) => console.error(`bench: ${((performance.now() / 1000) | 0).toString().padStart(4)}s ${text}`);

const bases = {};
const base = (name) => (bases[name] ??= ensureBase(REPO, name));
base('busybox');
const context = { repo: REPO, cli: resolve(values.cli), work, bases: new Proxy(bases, { get: (_, name) => base(name) }) };
const ours = tsbuild(context);
if (ours.unavailable) {
  console.error(`bench/suite: ${ours.unavailable}`);
  process.exit(2);
}
const peers = [];
const skipped = [];
for (const peer of values.peers ? [buildah(context), docker(context)] : []) {
  if (peer.unavailable) skipped.push({ what: peer.name, reason: peer.unavailable });
  else peers.push(peer);
}
if (!values.peers) skipped.push({ what: 'buildah, docker', reason: '--no-peers' });
for (const s of skipped) log(`skipping ${s.what}: ${s.reason}`);
const builders = [ours, ...peers];

log('measuring the physical references');
const ROOTFS = join(REPO, '.cache/fixtures/busybox-rootfs');
if (!existsSync(join(ROOTFS, 'bin/busybox'))) run('bash', [join(REPO, 'fixtures/base/make-busybox-rootfs.sh'), ROOTFS]);
const references = measureReferences({
  work,
  rootfs: ROOTFS,
  megabytes: QUICK ? 32 : 512,
  spawns: QUICK ? 20 : 200,
});

const rows = [];
const reproducibility = {};
const started = performance.now();
for (const workload of WORKLOADS.filter((w) => values.only === undefined || w.name === values.only)) {
  if (QUICK && !baseCached(REPO, workload.base)) {
    const reason = `the ${workload.base} base is not cached yet (a full \`npm run bench\` makes it once, with debootstrap)`;
    skipped.push({ what: workload.name, reason });
    log(`skipping ${workload.name}: ${reason}`);
    continue;
  }
  log(`${workload.name}: generating the context and preparing the bases`);
  const measured = await runWorkload(workload);
  rows.push(...composeRows(workload, measured));
  reproducibility[workload.name] = Object.fromEntries(
    builders.map((b) => {
      const digests = measured.cold[b.name].map((r) => r.digest);
      return [b.name, { digests, same: digests.every((d) => d === digests[0]) }];
    }),
  );
}

const result = {
  meta: {
    date: new Date().toISOString(),
    quick: QUICK,
    runs: RUNS,
    coldRuns: COLD_RUNS,
    seconds: +((performance.now() - started) / 1000).toFixed(0),
    machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model, memoryGB: +(totalmem() / 2 ** 30).toFixed(1), kernel: release() },
    versions: Object.fromEntries(builders.map((b) => [b.name, b.version])),
    sizes: SIZE,
  },
  references,
  builders: builders.map((b) => b.name),
  skipped,
  rows,
  reproducibility,
};
const out = values.out ?? (QUICK ? join(tmpdir(), 'tsbuild-bench-quick') : join(REPO, 'bench/results'));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
const table = markdown(result);
writeFileSync(join(out, 'latest.md'), table);
console.log(table);
log(`wrote ${join(out, 'latest.md')} and latest.json`);

/** Every case of one workload on every builder; returns { case: { builder: [results] } }. */
async function runWorkload(workload) {
  const contexts = {};
  let info;
  for (const b of builders) {
    contexts[b.name] = join(work, `${workload.name}-${b.name}`);
    mkdirSync(contexts[b.name]);
    info = workload.generate(contexts[b.name], SIZE);
    b.prepare(workload.base);
  }
  const tag = `bench-${workload.name}`;
  const on = (fn, list = builders) =>
    Object.fromEntries(
      list.map((b) => [
        b.name,
        (round) => {
          const result = fn(b, round);
          if (values.verbose) log(`  ${b.name} ${Math.round(result.ms)} ms`);
          return result;
        },
      ]),
    );
  const measured = { info };
  log(`${workload.name}: cold ×${COLD_RUNS}`);
  const cold = on((b) => (b.reset(workload.base), b.build(contexts[b.name], tag)));
  // A RUN-only workload's floor: the same number of bare namespace + overlay + exec runs,
  // alternated with the builds so that it sees the same machine load.
  if (info.runSteps) cold.floor = () => ({ ms: namespaceFloorSteps(work, ROOTFS, info.runSteps) });
  measured.cold = await alternate(cold, COLD_RUNS);
  log(`${workload.name}: warm, incremental, export ×${RUNS}`);
  measured.warm = await alternate(on((b) => b.build(contexts[b.name], tag)), RUNS);
  measured.incremental = await alternate(
    on((b, round) => (workload.change(contexts[b.name], round, SIZE), b.build(contexts[b.name], tag))),
    RUNS,
  );
  measured.export = await alternate(
    on((b) => {
      const file = join(work, `export-${b.name}.tar`);
      try {
        return b.export(contexts[b.name], tag, file);
      } finally {
        rmSync(file, { force: true });
      }
    }),
    RUNS,
  );
  if (!ours.archiveUnavailable) {
    const file = join(work, 'archive.tar');
    log(`${workload.name}: archive + replay ×${RUNS}`);
    measured.archive = await alternate(on((b) => b.archive(contexts[b.name], tag, file), [ours]), RUNS);
    measured.replay = await alternate(on((b) => b.replay(file), [ours]), RUNS);
  }
  return measured;
}

/** The rows of one workload: medians, ratios to each peer, the physical floor, targets. */
function composeRows(workload, measured) {
  return CASES.map((name) => {
    const runs = measured[name];
    const row = { workload: workload.name, case: name, ms: {}, ratios: {}, maxRssMB: null };
    if (!runs) {
      row.unavailable = ours.archiveUnavailable;
      row.targets = [];
      return row;
    }
    for (const b of builders) if (runs[b.name]) row.ms[b.name] = Math.round(median(runs[b.name].map((r) => r.ms)));
    const ts = row.ms.tsbuild;
    for (const peer of peers) if (row.ms[peer.name] != null) row.ratios[peer.name] = +(ts / row.ms[peer.name]).toFixed(2);
    const peerMs = peers.map((p) => row.ms[p.name]).filter((ms) => ms != null);
    if (peerMs.length) row.ratios.fasterPeer = +(ts / Math.min(...peerMs)).toFixed(2);
    row.maxRssMB = Math.max(...runs.tsbuild.map((r) => r.maxRssMB ?? 0));
    row.floor = floor(workload, name, measured, ts);
    row.targets = evaluate(row);
    return row;
  });
}

/** The physical reference a row is compared with, when one applies. */
function floor(workload, name, measured, ms) {
  const r = references;
  // Reading, hashing and writing every byte once: what copying content into a store costs.
  const copyMs = (bytes) => (bytes / 1e6) * (1000 / r.diskReadMBps + 1000 / r.sha256MBps + 1000 / r.diskWriteMBps);
  const tsMedian = (c) => median(measured[c].tsbuild.map((x) => x.ms));
  if (measured.info.runSteps && name === 'cold') {
    const perStep = (ms - tsMedian('warm')) / measured.info.runSteps;
    const floorPerStep = median(measured.cold.floor.map((x) => x.ms)) / measured.info.runSteps;
    return {
      what: 'per-RUN-step overhead / namespace floor',
      ms: +perStep.toFixed(1),
      floorMs: +floorPerStep.toFixed(1),
      ratio: +(perStep / floorPerStep).toFixed(2),
      target: { bound: '≤', value: 2 },
    };
  }
  if (name === 'cold' && measured.info.contextBytes) {
    const ref = copyMs(measured.info.contextBytes);
    return { what: 'throughput / (read + sha256 + write)', ms: +ref.toFixed(1), ratio: +(ref / ms).toFixed(3), target: { bound: '≥', value: 0.7 } };
  }
  // Throughput only means something where bytes dominate; elsewhere process start does.
  if ((name === 'export' || name === 'archive') && measured.info.contextBytes) {
    const bytes = median(measured[name].tsbuild.map((x) => x.bytes));
    const ref = name === 'export' ? copyMs(bytes) : (bytes / 1e6) * (1000 / r.diskWriteMBps);
    const what = name === 'export' ? 'throughput / (read + sha256 + write)' : 'throughput / disk write';
    return { what, ms: +ref.toFixed(1), ratio: +(ref / ms).toFixed(3), target: { bound: '≥', value: 0.7 }, bytes };
  }
  if (name === 'replay') {
    const cold = tsMedian('cold');
    return { what: 'replay / tsbuild cold build', ms: Math.round(cold), ratio: +(ms / cold).toFixed(2) };
  }
  return undefined;
}
