import { describe, expect, it } from 'vitest';
import { BuildModel, MAX_LINE_CHARS, TAIL_LINES } from '../../src/ui/model.js';
import { midBuild, STEPS, success, T0, viewAfter } from './script.js';

describe('BuildModel', () => {
  it('keeps a bounded tail per step, however much the step prints', () => {
    const model = new BuildModel();
    model.apply({ type: 'build.start', time: T0, steps: STEPS });
    model.apply({ type: 'step.start', time: T0, step: 3 });
    for (let i = 0; i < 10_000; i++) model.apply({ type: 'step.log', time: T0, step: 3, stream: 'stdout', data: `line ${i}\n` });
    model.apply({ type: 'step.log', time: T0, step: 3, stream: 'stdout', data: 'x'.repeat(100_000) + '\n' });
    const tail = model.snapshot().steps.find((s) => s.info.id === 3)!.tail;
    expect(tail).toHaveLength(TAIL_LINES);
    expect(tail.at(-2)).toBe('line 9999');
    expect(tail.at(-1)).toHaveLength(MAX_LINE_CHARS);
  });

  it('strips escape sequences and control characters from output it will draw', () => {
    const model = new BuildModel();
    model.apply({ type: 'build.start', time: T0, steps: STEPS });
    model.apply({ type: 'step.start', time: T0, step: 3 });
    model.apply({ type: 'step.log', time: T0, step: 3, stream: 'stdout', data: '\u001b[31mred\u001b[0m\u001b[2K\tok\u0007\n' });
    expect(model.snapshot().steps[2]!.tail).toEqual(['red  ok']);
  });

  it('tracks states, finish order and the result', () => {
    const view = viewAfter(success());
    expect(view.steps.map((s) => s.state)).toEqual(['cached', 'done', 'done', 'done', 'done']);
    expect(view.finished.map((s) => s.info.id)).toEqual([1, 2, 3, 4, 5]);
    expect(view.result).toMatchObject({ kind: 'done', stepsRun: 4, stepsCached: 1 });
    // Without layers in build.done, the summary lists the layers the steps reported.
    expect(view.result?.kind === 'done' && view.result.layers.map((l) => l.size)).toEqual([1_500, 2_100_000, 2_000_000]);
  });

  it('is dirty after an event and clean after a snapshot', () => {
    const model = new BuildModel();
    for (const event of midBuild()) model.apply(event);
    expect(model.dirty).toBe(true);
    expect(model.inProgress).toBe(true);
    model.snapshot();
    expect(model.dirty).toBe(false);
  });

  it('ignores events for steps it was not told about', () => {
    const model = new BuildModel();
    model.apply({ type: 'build.start', time: T0, steps: STEPS });
    model.apply({ type: 'step.log', time: T0, step: 99, stream: 'stdout', data: 'x\n' });
    model.apply({ type: 'step.done', time: T0, step: 99, durationMs: 1 });
    expect(model.snapshot().finished).toEqual([]);
  });
});

describe('BuildModel summary layers', () => {
  it('names the step that made each layer of the image, leaving base layers unnamed', () => {
    const events = success();
    const done = events.pop()!;
    if (done.type !== 'build.done') throw new Error('expected build.done last');
    const base = { diffId: 'sha256:' + '0'.repeat(64), size: 2_000_000 };
    const stepLayer = { diffId: 'sha256:' + 'b'.repeat(64), size: 2_100_000 };
    const view = viewAfter([...events, { ...done, layers: [base, stepLayer] }]);
    const layers = view.result?.kind === 'done' ? view.result.layers : [];
    expect(layers.map((l) => l.step?.instruction)).toEqual([undefined, 'RUN make']);
  });
});
