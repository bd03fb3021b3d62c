#!/usr/bin/env node
// Benchmark: extracting a layer. Writes (once, cached) the layer of the generated tree that
// bench/layer-write.js also uses to a tar file, then alternates, each in a fresh child
// process: GNU tar extracting it (the reference) and extractLayer (safe resolution, diffID,
// deferred metadata).
// Reports median wall times, the ratio reference/extractLayer and each child's peak RSS.
//
//   npx tsc -p . && node bench/layer-extract.js [--size-mb 256] [--runs 3] [--json]

import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alternate, generateTree, measureChild, median, REPO } from './layer-harness.js';

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
    tar: { type: 'string' },
  },
});

if (values.child) {
  await runChild(values.child, values.tar);
  process.exit(0);
}

const tree = generateTree(Number(values['size-mb']) * 2 ** 20);
const { writeLayer } = await import(join(REPO, 'dist/layer/index.js'));
const tarPath = `${tree}.tar`;
if (!existsSync(tarPath)) {
  await writeLayer(tree, createWriteStream(`${tarPath}.tmp`), { sourceDateEpoch: 0, kind: 'directory' });
  renameSync(`${tarPath}.tmp`, tarPath);
}

const RUNS = Number(values.runs);
const results = alternate(import.meta.filename, ['reference', 'extract'], ['--tar', tarPath], RUNS);
const ref = median(results.reference.map((r) => r.ms));
const ours = median(results.extract.map((r) => r.ms));
const bytes = statSync(tarPath).size;
const summary = {
  tarBytes: bytes,
  referenceMs: ref,
  extractMs: ours,
  extractMBps: Math.round(bytes / 1e6 / (ours / 1000)),
  ratio: Number((ref / ours).toFixed(3)),
  extractPeakRssMB: Math.max(...results.extract.map((r) => r.maxRssMB)),
};
if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  console.log(`layer-extract: ${(bytes / 2 ** 20).toFixed(0)} MiB tar, median of ${RUNS} runs`);
  console.log(`  GNU tar -x (reference): ${ref.toFixed(0)} ms`);
  console.log(`  extractLayer:           ${ours.toFixed(0)} ms  ${summary.extractMBps} MB/s  peak RSS ${summary.extractPeakRssMB} MB`);
  console.log(`  ratio reference/extractLayer: ${summary.ratio}`);
}

async function runChild(kind, tar) {
  const { extractLayer } = await import(join(REPO, 'dist/layer/index.js'));
  const dest = mkdtempSync(join(REPO, '.cache/bench/extract-'));
  await measureChild(async () => {
    if (kind === 'reference') execFileSync('tar', ['-xf', tar, '-C', dest, '--numeric-owner']);
    else await extractLayer(createReadStream(tar), dest, { whiteouts: 'overlay' });
    // Both write through the page cache; syncing makes the disk cost part of each measurement.
    execFileSync('sync', ['-f', dest]);
  });
  rmSync(dest, { recursive: true, force: true });
}
