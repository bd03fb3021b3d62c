#!/usr/bin/env node
// Benchmark: the store's hot paths, each as a ratio to a reference measured in the same run.
//   ingest     streaming a blob in (hash, write, fsync, verify, rename) vs write + fsync + sha256
//   read       openBlob (verifying) vs a plain read + sha256 of the same file
//   cache      100 cache lookups (hits) among 2,000 records vs 100 plain file reads
//   lock       file lock acquire + release vs spawning flock(1) once
// Targets: ingest and read ≥ 0.7 of the reference; 100 lookups in milliseconds.
//
//   npx tsc -p . && node bench/store-ops.js [--mb 256] [--runs 3] [--json]

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { median, timed } from './lib/stats.js';

const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(dist)) {
  console.error('bench/store-ops: dist/index.js is missing; run `npx tsc -p .` first.');
  process.exit(2);
}
const { Store } = await import(dist.href);
const { acquireLock } = await import(new URL('../dist/lib/lock.js', import.meta.url).href);

const { values } = parseArgs({ options: { mb: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
const BYTES = Number(values.mb) << 20;
const RUNS = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-store-'));
const chunk = randomBytes(1 << 20);

function source(seed) {
  let left = BYTES;
  const first = Buffer.from(`${seed}`);
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      left -= chunk.length;
      this.push(left + chunk.length === BYTES ? Buffer.concat([first, chunk.subarray(first.length)]) : chunk);
    },
  });
}

/** The median wall milliseconds of RUNS calls of fn(i). */
async function medianMs(fn) {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await timed(() => fn(i)));
  return median(times);
}

async function referenceWrite(i) {
  const path = join(work, `ref-${i}`);
  const hash = createHash('sha256');
  await pipeline(source(`ref${i}`), async function* (stream) {
    for await (const c of stream) {
      hash.update(c);
      yield c;
    }
  }, createWriteStream(path));
  const handle = await open(path, 'r');
  await handle.sync();
  await handle.close();
  hash.digest('hex');
}

async function referenceRead(path) {
  const hash = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(c);
  hash.digest('hex');
}

const store = await Store.open(join(work, 'store'));
const results = {};
try {
  const refIngest = await medianMs(referenceWrite);
  const digests = [];
  const ingest = await medianMs(async (i) => digests.push((await store.ingest(source(`store${i}`))).digest));
  results.ingest = { mbPerSecond: +(BYTES / 1e6 / (ingest / 1000)).toFixed(1), referenceMbPerSecond: +(BYTES / 1e6 / (refIngest / 1000)).toFixed(1), ratio: +(refIngest / ingest).toFixed(2) };

  const refRead = await medianMs(() => referenceRead(store.blobPath(digests[0])));
  const read = await medianMs(async () => {
    for await (const _ of store.openBlob(digests[0])) void _;
  });
  results.read = { mbPerSecond: +(BYTES / 1e6 / (read / 1000)).toFixed(1), referenceMbPerSecond: +(BYTES / 1e6 / (refRead / 1000)).toFixed(1), ratio: +(refRead / read).toFixed(2) };

  const layerBlob = await store.ingest(Readable.from([Buffer.from('layer')]));
  const layer = { descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerBlob.digest, size: layerBlob.size }, diffId: layerBlob.digest };
  for (let i = 0; i < 2000; i++) await store.putCacheRecord(`key-${i}`, { layer, createdAt: '1970-01-01T00:00:00Z' });
  const lookups = await medianMs(async () => {
    for (let i = 0; i < 100; i++) if (!(await store.getCacheRecord(`key-${i * 13}`))) throw new Error('expected a hit');
  });
  const plainReads = await medianMs(async () => {
    for (let i = 0; i < 100; i++) await readFile(store.layout.cacheRecord(`key-${i * 13}`));
  });
  results.cache = { hundredLookupsMs: +lookups.toFixed(2), hundredPlainReadsMs: +plainReads.toFixed(2), ratio: +(plainReads / lookups).toFixed(2) };

  const lockPath = join(work, 'bench.lock');
  const N = 500;
  const lockStart = performance.now();
  for (let i = 0; i < N; i++) await (await acquireLock(lockPath)).release();
  const lockMs = (performance.now() - lockStart) / N;
  const flockStart = performance.now();
  for (let i = 0; i < 20; i++) execFileSync('flock', [join(work, 'f.lock'), 'true']);
  const flockMs = (performance.now() - flockStart) / 20;
  results.lock = { acquireReleaseMs: +lockMs.toFixed(3), flockSpawnMs: +flockMs.toFixed(3), ratio: +(flockMs / lockMs).toFixed(1) };
} finally {
  await store.close();
  rmSync(work, { recursive: true, force: true });
}

if (values.json) {
  console.log(JSON.stringify({ bench: 'store-ops', mb: BYTES >> 20, runs: RUNS, ...results }));
} else {
  console.log(`store-ops (${BYTES >> 20} MB blobs, median of ${RUNS})`);
  console.log(`  ingest  ${results.ingest.mbPerSecond} MB/s vs write+fsync+sha256 ${results.ingest.referenceMbPerSecond} MB/s: ratio ${results.ingest.ratio} (target ≥ 0.7)`);
  console.log(`  read    ${results.read.mbPerSecond} MB/s vs read+sha256 ${results.read.referenceMbPerSecond} MB/s: ratio ${results.read.ratio} (target ≥ 0.7)`);
  console.log(`  cache   100 lookups ${results.cache.hundredLookupsMs} ms vs 100 plain reads ${results.cache.hundredPlainReadsMs} ms: ratio ${results.cache.ratio}`);
  console.log(`  lock    acquire+release ${results.lock.acquireReleaseMs} ms vs flock(1) ${results.lock.flockSpawnMs} ms: ${results.lock.ratio}× faster`);
}
