// A scripted build, as the solver would report it: two stages running in parallel, a cached
// step, chatty output with partial lines, a transfer, and a success or a failure at the end.

import type { BuildEvent, StepInfo } from '../../src/events.js';
import { BuildModel, type BuildView } from '../../src/ui/model.js';

export const T0 = 1_700_000_000_000;

export const DOCKERFILE = [
  'FROM busybox AS base',
  'RUN echo base',
  'FROM base AS build',
  'RUN make',
  'FROM base AS test',
  'RUN ./run-tests',
  'FROM base',
  'COPY --from=build /out /app',
].join('\n');

export const STEPS: StepInfo[] = [
  { id: 1, stage: 'base', index: 1, total: 2, instruction: 'FROM busybox', location: loc(1) },
  { id: 2, stage: 'base', index: 2, total: 2, instruction: 'RUN echo base', location: loc(2) },
  { id: 3, stage: 'build', index: 1, total: 1, instruction: 'RUN make', location: loc(4) },
  { id: 4, stage: 'test', index: 1, total: 1, instruction: 'RUN ./run-tests', location: loc(6) },
  { id: 5, stage: 'stage-3', index: 1, total: 1, instruction: 'COPY --from=build /out /app', location: loc(8) },
];

function loc(line: number) {
  return { file: 'Dockerfile', line, column: 1 };
}

const at = (ms: number) => T0 + ms;

/** Up to the point where `build` and `test` both run and have printed something. */
export function midBuild(): BuildEvent[] {
  return [
    { type: 'build.start', time: at(0), steps: STEPS },
    { type: 'transfer', time: at(1), id: 'context', label: 'load build context', current: 0, total: 4_000 },
    { type: 'transfer', time: at(40), id: 'context', label: 'load build context', current: 4_000, total: 4_000, done: true },
    { type: 'step.cached', time: at(50), step: 1 },
    { type: 'step.start', time: at(60), step: 2 },
    { type: 'step.log', time: at(100), step: 2, stream: 'stdout', data: 'base\n' },
    { type: 'step.done', time: at(160), step: 2, durationMs: 100, layer: { diffId: 'sha256:' + 'a'.repeat(64), size: 1_500 } },
    { type: 'step.start', time: at(200), step: 3 },
    { type: 'step.start', time: at(210), step: 4 },
    { type: 'step.log', time: at(612), step: 3, stream: 'stdout', data: 'cc -c main.c\ncc -c ut' },
    { type: 'step.log', time: at(700), step: 3, stream: 'stdout', data: 'il.c\n' },
    { type: 'step.log', time: at(800), step: 4, stream: 'stderr', data: 'test 1 ok\ntest 2 ok\n' },
  ];
}

/** The rest of a successful build. */
export function success(): BuildEvent[] {
  return [
    ...midBuild(),
    { type: 'step.log', time: at(1_000), step: 3, stream: 'stdout', data: 'cc -o app main.o util.o' },
    { type: 'step.done', time: at(3_400), step: 3, durationMs: 3_200, layer: { diffId: 'sha256:' + 'b'.repeat(64), size: 2_100_000 } },
    { type: 'step.done', time: at(3_500), step: 4, durationMs: 3_290 },
    { type: 'step.start', time: at(3_600), step: 5 },
    { type: 'step.done', time: at(3_700), step: 5, durationMs: 100, layer: { diffId: 'sha256:' + 'c'.repeat(64), size: 2_000_000 } },
    { type: 'warning', time: at(3_710), message: 'FROM without a digest is not reproducible', location: loc(1) },
    {
      type: 'build.done',
      time: at(3_800),
      durationMs: 3_800,
      image: { digest: 'sha256:' + 'd'.repeat(64), names: ['example/app:latest'] },
      stepsCached: 1,
      stepsRun: 4,
    },
  ];
}

/** `RUN make` fails with exit status 2; the test stage is cancelled. */
export function failure(): BuildEvent[] {
  return [
    ...midBuild(),
    { type: 'step.log', time: at(1_000), step: 3, stream: 'stderr', data: 'util.c:3: error: expected ;' },
    {
      type: 'step.error',
      time: at(1_200),
      step: 3,
      code: 'E_STEP_FAILED',
      message: 'RUN make: exit status 2',
      exitStatus: 2,
      location: loc(4),
      source: DOCKERFILE,
    },
    { type: 'step.cancelled', time: at(1_250), step: 4 },
    {
      type: 'build.error',
      time: at(1_300),
      durationMs: 1_300,
      code: 'E_STEP_FAILED',
      message: 'RUN make: exit status 2',
      hint: 'the output above shows why the command failed',
    },
  ];
}

/** The tty model's snapshot after the events, as the live view would draw it. */
export function viewAfter(events: BuildEvent[]): BuildView {
  const model = new BuildModel();
  for (const event of events) model.apply(event);
  return model.snapshot();
}

/** A build of `count` steps over `stages` stages, with the given ones running. */
export function bigBuild(count: number, stages: number, running: number[]): BuildEvent[] {
  const steps: StepInfo[] = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    stage: `stage${i % stages}`,
    index: Math.floor(i / stages) + 1,
    total: Math.ceil(count / stages),
    instruction: `RUN ./step ${i + 1}`,
  }));
  const events: BuildEvent[] = [{ type: 'build.start', time: at(0), steps }];
  for (const id of running) {
    events.push({ type: 'step.start', time: at(10), step: id });
    events.push({ type: 'step.log', time: at(20), step: id, stream: 'stdout', data: `one ${id}\ntwo ${id}\nthree ${id}\nfour ${id}\n` });
  }
  return events;
}
