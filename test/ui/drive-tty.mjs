// Drives the tty renderer in a real terminal (see tty-terminal.test.ts): a scripted build whose
// two stages run in parallel and keep printing until the test creates the gate file.
//   node drive-tty.mjs <compiled src dir> <gate file>

import { existsSync } from 'node:fs';

const [dir, gate] = process.argv.slice(2);
const { createRenderer } = await import(`${dir}/ui/index.js`);
const out = process.stderr;
const renderer = createRenderer('tty', { out, color: !process.env.NO_COLOR, columns: out.columns, rows: out.rows });
const emit = (event) => renderer.sink({ time: Date.now(), ...event });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const steps = [
  ['base', 1, 2, 'FROM busybox'],
  ['base', 2, 2, 'RUN echo base'],
  ['build', 1, 2, 'RUN make'],
  ['build', 2, 2, 'RUN make install'],
  ['test', 1, 1, 'RUN ./run-tests'],
  ['final', 1, 1, 'COPY --from=build /out /app'],
].map(([stage, index, total, instruction], i) => ({ id: i + 1, stage, index, total, instruction }));

emit({ type: 'build.start', steps });
emit({ type: 'step.cached', step: 1 });
emit({ type: 'step.start', step: 2 });
emit({ type: 'step.log', step: 2, stream: 'stdout', data: 'base\n' });
emit({ type: 'step.done', step: 2, durationMs: 120, layer: { diffId: 'sha256:' + 'a'.repeat(64), size: 1500 } });
emit({ type: 'step.start', step: 3 });
emit({ type: 'step.start', step: 5 });
for (let i = 0; !existsSync(gate); i++) {
  emit({ type: 'step.log', step: 3, stream: 'stdout', data: `make: compiling unit-${i}.c\n` });
  emit({ type: 'step.log', step: 5, stream: 'stderr', data: `test: case ${i} ok\n` });
  await sleep(20);
}
emit({ type: 'step.done', step: 3, durationMs: 2000, layer: { diffId: 'sha256:' + 'b'.repeat(64), size: 2_100_000 } });
emit({ type: 'step.start', step: 4 });
emit({ type: 'step.done', step: 4, durationMs: 300, layer: { diffId: 'sha256:' + 'c'.repeat(64), size: 300_000 } });
emit({ type: 'step.done', step: 5, durationMs: 2100 });
emit({ type: 'step.start', step: 6 });
emit({ type: 'step.done', step: 6, durationMs: 50, layer: { diffId: 'sha256:' + 'e'.repeat(64), size: 2_000_000 } });
emit({
  type: 'build.done',
  durationMs: 2500,
  image: { digest: 'sha256:' + 'd'.repeat(64), names: ['example/app:latest'] },
  stepsCached: 1,
  stepsRun: 5,
});
await renderer.finish();
process.stdout.write('DRIVER EXIT\n');
