#!/usr/bin/env node
// Benchmark: writing a layer. Generates (once, cached) a deterministic directory of mixed
// files — many small, some medium, a few large — totalling --size-mb, then alternates, each in
// a fresh child process: the reference (read every file in walk order and sha256 the bytes)
// and writeLayer into a null sink (tar + diffID). Reports median wall and CPU times, the
// throughput ratio reference/layer (issue 4's target: ≥ 0.7; the CPU ratio is the steadier one
// on a shared machine) and each child's peak RSS (target: flat, < 150 MB whatever the size).
//
//   npx tsc -p . && node bench/layer-write.js [--size-mb 1024] [--runs 3] [--json]

import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { alternate, generateTree, measureChild, median, REPO } from './layer-harness.js';

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
});

if (values.child) {
  await runChild(values.child, values.dir);
  process.exit(0);
}

const dist = join(REPO, 'dist/layer/index.js');
if (!existsSync(dist)) {
  console.error('bench/layer-write: dist/layer/index.js is missing; run `npx tsc -p .` first.');
  process.exit(2);
}
const SIZE = Number(values['size-mb']) * 2 ** 20;
const RUNS = Number(values.runs);
const dir = generateTree(SIZE);

const results = alternate(import.meta.filename, ['reference', 'layer'], ['--dir', dir], RUNS);
const ref = median(results.reference.map((r) => r.ms));
const layer = median(results.layer.map((r) => r.ms));
const refCpu = median(results.reference.map((r) => r.cpuMs));
const layerCpu = median(results.layer.map((r) => r.cpuMs));
const { bytes, files } = countTree(dir);
const summary = {
  dataBytes: bytes,
  files,
  tarBytes: results.layer[0].tarBytes,
  referenceMs: ref,
  layerMs: layer,
  referenceMBps: Math.round(bytes / 1e6 / (ref / 1000)),
  layerMBps: Math.round(bytes / 1e6 / (layer / 1000)),
  ratio: Number((ref / layer).toFixed(3)),
  referenceCpuMs: Math.round(refCpu),
  layerCpuMs: Math.round(layerCpu),
  cpuRatio: Number((refCpu / layerCpu).toFixed(3)),
  loadAverage: loadavg()[0],
  referencePeakRssMB: Math.max(...results.reference.map((r) => r.maxRssMB)),
  layerPeakRssMB: Math.max(...results.layer.map((r) => r.maxRssMB)),
  targets: { ratio: 0.7, peakRssMB: 150 },
};
if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  console.log(`layer-write: ${summary.files} files, ${(bytes / 2 ** 30).toFixed(2)} GiB of data, median of ${RUNS} runs`);
  console.log(`  read + sha256 (reference): ${ref.toFixed(0)} ms  ${summary.referenceMBps} MB/s  peak RSS ${summary.referencePeakRssMB} MB`);
  console.log(`  writeLayer (tar + diffID): ${layer.toFixed(0)} ms  ${summary.layerMBps} MB/s  peak RSS ${summary.layerPeakRssMB} MB`);
  console.log(`  ratio reference/layer: ${summary.ratio} wall, ${summary.cpuRatio} CPU (target ≥ 0.7); layer peak RSS target < 150 MB`);
  console.log(`  CPU time: reference ${summary.referenceCpuMs} ms, layer ${summary.layerCpuMs} ms; load average ${summary.loadAverage} (wall times are only comparable on an idle machine)`);
}

async function runChild(kind, root) {
  const { writeLayer } = await import(join(REPO, 'dist/layer/index.js'));
  await measureChild(async () => {
    if (kind === 'reference') return readAndHash(root);
    let tarBytes = 0;
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        tarBytes += chunk.length;
        callback();
      },
    });
    await writeLayer(root, sink, { sourceDateEpoch: 0, kind: 'directory' });
    return { tarBytes };
  });
}

/** The reference: every file's bytes, in a depth-first walk, through one sha256. */
function readAndHash(root) {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  let files = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop();
    for (const name of readdirSync(dir).sort().reverse()) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      if (stats.isDirectory()) stack.push(path);
      else if (stats.isFile()) {
        const fd = openSync(path, 'r');
        for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
          hash.update(buffer.subarray(0, n));
          bytes += n;
        }
        closeSync(fd);
        files++;
      }
    }
  }
  hash.digest('hex');
  return { bytes, files };
}

function countTree(root) {
  let bytes = 0;
  let files = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop();
    for (const name of readdirSync(dir)) {
      const stats = lstatSync(join(dir, name));
      if (stats.isDirectory()) stack.push(join(dir, name));
      else if (stats.isFile()) {
        bytes += stats.size;
        files++;
      }
    }
  }
  return { bytes, files };
}
