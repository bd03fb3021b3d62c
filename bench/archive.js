#!/usr/bin/env node
// Benchmarks of build archives (issue 7), each against a reference measured in the same run:
//
//   archive-write  `tsbuild build --archive` of a fully cached build with a large context, minus
//                  the same cached build without --archive: archive bytes per second, as a ratio
//                  of raw sequential disk write (dd with fsync) of as many bytes; target ≥ 0.7
//   replay-40      `tsbuild replay` of a fully reproducible 40-step archive into an empty store,
//                  as a ratio of the cold build of the same recipe
//
//   npx tsc -p . && make -C native && node bench/archive.js [--quick] [--json]
// bench-quick: --quick

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { keystream } from './lib/bytes.js';
import { measure, run } from './lib/process.js';
import { median } from './lib/stats.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'bin/tsbuild.js');
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
const SIZES = values.quick ? { contextMB: 16, steps: 4, runs: 1 } : { contextMB: 512, steps: 40, runs: 3 };

const work = mkdtempSync(join(tmpdir(), 'bench-archive-'));
const tsbuild = (args) => measure(process.execPath, [CLI, ...args]);

function makeBase(store) {
  const rootfs = join(work, 'busybox-rootfs');
  run('bash', [join(REPO, 'fixtures/base/make-busybox-rootfs.sh'), rootfs]);
  writeFileSync(join(work, 'base.Dockerfile'), 'FROM scratch\nCOPY / /\nCMD ["sh"]\n');
  tsbuild(['build', '--root', store, '--progress', 'quiet', '-t', 'busybox', '-f', join(work, 'base.Dockerfile'), rootfs]);
}

function writeRandomFile(path, megabytes) {
  const next = keystream(7);
  const fd = openSync(path, 'w');
  for (let i = 0; i < megabytes; i++) writeSync(fd, next(1 << 20));
  closeSync(fd);
}

/** Raw sequential write of `bytes` with fsync, the disk's own speed on this machine now. */
function rawWriteMs(bytes) {
  const target = join(work, 'raw.bin');
  const started = performance.now();
  execFileSync('dd', ['if=/dev/zero', `of=${target}`, 'bs=1M', `count=${Math.ceil(bytes / (1 << 20))}`, 'conv=fsync'], { stdio: 'ignore' });
  const ms = performance.now() - started;
  rmSync(target);
  return ms;
}

function archiveWrite(store) {
  const context = join(work, 'large');
  mkdirSync(context);
  writeRandomFile(join(context, 'data.bin'), SIZES.contextMB);
  writeFileSync(join(context, 'Dockerfile'), 'FROM busybox\nCOPY data.bin /data.bin\nRUN wc -c /data.bin > /size\n');
  tsbuild(['build', '--root', store, '--progress', 'quiet', context]);
  const samples = [];
  for (let i = 0; i < SIZES.runs; i++) {
    const archive = join(work, `large-${i}.tar`);
    const cached = tsbuild(['build', '--root', store, '--progress', 'quiet', context]).ms;
    const archived = tsbuild(['build', '--root', store, '--progress', 'quiet', '--archive', archive, context]);
    const bytes = statSync(archive).size;
    const raw = rawWriteMs(bytes);
    rmSync(archive);
    samples.push({ archiveMs: Math.max(1, archived.ms - cached), rawMs: raw, bytes, maxRssMB: archived.maxRssMB });
  }
  const archiveMs = median(samples.map((s) => s.archiveMs));
  const rawMs = median(samples.map((s) => s.rawMs));
  const bytes = samples[0].bytes;
  return {
    name: 'archive-write',
    archiveMBps: bytes / 1e6 / (archiveMs / 1000),
    rawMBps: bytes / 1e6 / (rawMs / 1000),
    ratio: rawMs / archiveMs,
    target: '≥ 0.7',
    met: rawMs / archiveMs >= 0.7,
    maxRssMB: Math.max(...samples.map((s) => s.maxRssMB)),
  };
}

function replay40(store) {
  const context = join(work, 'steps');
  mkdirSync(context);
  const steps = Array.from({ length: SIZES.steps }, (_, i) => `RUN echo step ${i} > /step-${i}`);
  writeFileSync(join(context, 'Dockerfile'), ['FROM busybox', ...steps, ''].join('\n'));
  const samples = [];
  for (let i = 0; i < SIZES.runs; i++) {
    const archive = join(work, `steps-${i}.tar`);
    const coldStore = join(work, `cold-${i}`);
    run('cp', ['-a', store, coldStore]);
    const cold = tsbuild(['build', '--root', coldStore, '--progress', 'quiet', '--archive', archive, context]).ms;
    const replayed = tsbuild(['replay', '--root', join(work, `replay-${i}`), '--progress', 'quiet', archive]);
    if (replayed.stdout.trim() !== `reproduced ${SIZES.steps}/${SIZES.steps} steps`) throw new Error(`replay did not reproduce: ${replayed.stdout}`);
    samples.push({ cold, replay: replayed.ms, maxRssMB: replayed.maxRssMB });
  }
  const cold = median(samples.map((s) => s.cold));
  const replay = median(samples.map((s) => s.replay));
  return { name: `replay-${SIZES.steps}`, replayMs: replay, coldBuildMs: cold, ratio: replay / cold, maxRssMB: Math.max(...samples.map((s) => s.maxRssMB)) };
}

try {
  const store = join(work, 'store');
  makeBase(store);
  const results = [archiveWrite(store), replay40(store)];
  if (values.json) console.log(JSON.stringify(results, null, 2));
  else {
    const [write, replay] = results;
    console.log(`archive-write: ${write.archiveMBps.toFixed(0)} MB/s vs raw disk write ${write.rawMBps.toFixed(0)} MB/s = ${write.ratio.toFixed(2)}× (target ${write.target}: ${write.met ? 'met' : 'missed'}), peak RSS ${write.maxRssMB} MB`);
    console.log(`${replay.name}: replay ${replay.replayMs.toFixed(0)} ms vs cold build ${replay.coldBuildMs.toFixed(0)} ms = ${replay.ratio.toFixed(2)}×, peak RSS ${replay.maxRssMB} MB`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
