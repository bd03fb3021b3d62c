#!/usr/bin/env node
// Benchmark: the cost of drawing progress. Feeds the same scripted build — 200 steps, four
// running at a time, 10,000 output lines each — through the tty renderer (ink, into a fake
// terminal) and the plain renderer (into a sink), plus quiet (no rendering: the cost of the
// feed itself), alternating, and reports the median wall and CPU time of each and the ratio
// tty/plain. The target: tty ≤ 1.05 × plain.
//
//   npx tsc -p . && node bench/ui-render.js [--steps 200] [--lines 10000] [--lines-per-event 10] [--runs 3] [--json]
//
// The quick variant (CI) only shows that the benchmark runs: at that size ink's start-up and
// JIT warm-up dominate, so its ratio says nothing about the target.
// bench-quick: --steps 20 --lines 1000 --runs 1

import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { median } from './lib/stats.js';

const dist = new URL('../dist/ui/index.js', import.meta.url);
if (!existsSync(dist)) {
  console.error('bench/ui-render: dist/ui/index.js is missing; run `npx tsc -p .` first.');
  process.exit(2);
}
const { createRenderer } = await import(dist.href);

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '200' },
    lines: { type: 'string', default: '10000' },
    'lines-per-event': { type: 'string', default: '10' },
    parallel: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const STEPS = Number(values.steps);
const LINES = Number(values.lines);
const PER_EVENT = Number(values['lines-per-event']);
const PARALLEL = Number(values.parallel);
const RUNS = Number(values.runs);
/** Events between yields to the event loop, as a real build's output arrives in chunks over time. */
const EVENTS_PER_YIELD = 500;

/** A terminal that accepts everything and counts bytes. */
class NullTerminal extends Writable {
  bytes = 0;
  columns = 120;
  rows = 40;
  _write(chunk, _encoding, done) {
    this.bytes += chunk.length;
    done();
  }
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

async function feed(mode) {
  const out = new NullTerminal();
  const renderer = createRenderer(mode, { out, color: true, columns: out.columns, rows: out.rows });
  const steps = Array.from({ length: STEPS }, (_, i) => ({
    id: i + 1,
    stage: `stage${i % PARALLEL}`,
    index: Math.floor(i / PARALLEL) + 1,
    total: Math.ceil(STEPS / PARALLEL),
    instruction: `RUN ./build-part ${i + 1} --verbose`,
  }));
  const cpu = process.cpuUsage();
  const started = performance.now();
  let now = Date.now();
  renderer.sink({ type: 'build.start', time: now, steps });
  let sent = 0;
  for (let first = 1; first <= STEPS; first += PARALLEL) {
    const group = steps.slice(first - 1, first - 1 + PARALLEL).map((s) => s.id);
    for (const id of group) renderer.sink({ type: 'step.start', time: Date.now(), step: id });
    for (let line = 0; line < LINES; line += PER_EVENT) {
      for (const id of group) {
        let data = '';
        for (let k = line; k < Math.min(LINES, line + PER_EVENT); k++) data += `[${id}] compiling src/module-${k}.c -O2 -Wall\n`;
        renderer.sink({ type: 'step.log', time: Date.now(), step: id, stream: 'stdout', data });
        if (++sent % EVENTS_PER_YIELD === 0) await yieldToLoop();
      }
    }
    for (const id of group) renderer.sink({ type: 'step.done', time: Date.now(), step: id, durationMs: 1 });
  }
  now = Date.now();
  renderer.sink({ type: 'build.done', time: now, durationMs: 1, stepsCached: 0, stepsRun: STEPS });
  await renderer.finish();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000, bytes: out.bytes };
}

const results = { tty: [], plain: [], quiet: [] };
await feed('plain'); // warm-up: JIT and module loading, not measured
await feed('tty');
for (let run = 0; run < RUNS; run++) {
  for (const mode of ['tty', 'plain', 'quiet']) results[mode].push(await feed(mode));
}
const summary = Object.fromEntries(
  Object.entries(results).map(([mode, runs]) => [
    mode,
    { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)), bytes: runs[0].bytes },
  ]),
);
const report = {
  bench: 'ui-render',
  steps: STEPS,
  linesPerStep: LINES,
  linesPerEvent: PER_EVENT,
  runs: RUNS,
  ...summary,
  ratioWall: summary.tty.wallMs / summary.plain.wallMs,
  ratioCpu: summary.tty.cpuMs / summary.plain.cpuMs,
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const row = (mode) =>
    `| ${mode.padEnd(5)} | ${summary[mode].wallMs.toFixed(0).padStart(7)} | ${summary[mode].cpuMs.toFixed(0).padStart(7)} | ${(summary[mode].bytes / 1e6).toFixed(1).padStart(9)} |`;
  console.log(`ui-render: ${STEPS} steps × ${LINES} lines (${PER_EVENT} lines/event, ${PARALLEL} in parallel), median of ${RUNS}`);
  console.log('| mode  | wall ms |  cpu ms | output MB |');
  console.log('|-------|---------|---------|-----------|');
  console.log(row('tty'));
  console.log(row('plain'));
  console.log(row('quiet'));
  const verdict = report.ratioCpu <= 1.05 ? 'met' : `MISSED by ${((report.ratioCpu - 1.05) * 100).toFixed(1)} points`;
  console.log(`tty/plain: wall ${report.ratioWall.toFixed(3)}×, cpu ${report.ratioCpu.toFixed(3)}× (target ≤ 1.05× cpu: ${verdict})`);
  console.log(`renderer cost over quiet (the feed itself): tty ${(summary.tty.cpuMs - summary.quiet.cpuMs).toFixed(0)} ms, plain ${(summary.plain.cpuMs - summary.quiet.cpuMs).toFixed(0)} ms cpu`);
}
