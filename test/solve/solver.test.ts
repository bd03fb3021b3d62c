import { describe, expect, it } from 'vitest';
import { CancelledError, StepFailedError } from '../../src/errors.js';
import type { BuildEvent } from '../../src/events.js';
import { Solver } from '../../src/solve/solver.js';
import { deferred, newCache, vtx } from './fake-vertex.js';

function recorder() {
  const events: BuildEvent[] = [];
  return { events, sink: (event: BuildEvent) => events.push(event), types: () => events.map((e) => `${e.type}:${'step' in e ? e.step : ''}`) };
}

describe('Solver', () => {
  it('runs each vertex once, inputs first, and a second build executes 0 steps', async () => {
    const cache = newCache();
    const chain = () => {
      const base = vtx({ name: 'base', cache, step: 1 });
      const mid = vtx({ name: 'mid', cache, step: 2, inputs: [base] });
      const top = vtx({ name: 'top', cache, step: 3, inputs: [mid] });
      return [base, mid, top] as const;
    };
    const solver = new Solver({ concurrency: 2 });
    const first = chain();
    const [result] = await solver.solve([first[2]]);
    expect(result!.result).toBe('top+mid+base');
    expect(result!.outcome).toBe('executed');
    expect(first.map((v) => v.execCallCount)).toEqual([1, 1, 1]);

    const second = chain();
    const progress = recorder();
    const [again] = await solver.solve([second[2]], { sink: progress.sink });
    expect(second.map((v) => v.execCallCount)).toEqual([0, 0, 0]);
    expect(second.map((v) => v.cacheCallCount)).toEqual([1, 1, 1]);
    expect(again!.key).toBe(result!.key);
    expect(again!.outcome).toBe('cached');
    expect(progress.types()).toEqual(['step.cached:1', 'step.cached:2', 'step.cached:3']);
  });

  it('--no-cache ignores hits but still runs every vertex exactly once', async () => {
    const cache = newCache();
    const solver = new Solver();
    await solver.solve([vtx({ name: 'a', cache, inputs: [vtx({ name: 'b', cache })] })]);
    const b = vtx({ name: 'b', cache });
    const a = vtx({ name: 'a', cache, inputs: [b] });
    await solver.solve([a], { noCache: true });
    expect([a.execCallCount, b.execCallCount]).toEqual([1, 1]);
    expect([a.cacheCallCount, b.cacheCallCount]).toEqual([0, 0]);
  });

  it('a vertex marked noCache runs again while the vertices around it are cache hits', async () => {
    const cache = newCache();
    await new Solver().solve([vtx({ name: 'top', cache, inputs: [vtx({ name: 'mid', cache, inputs: [vtx({ name: 'base', cache })] })] })]);
    const base = vtx({ name: 'base', cache });
    const mid = vtx({ name: 'mid', cache, inputs: [base], noCache: true });
    const top = vtx({ name: 'top', cache, inputs: [mid] });
    await new Solver().solve([top]);
    expect([base.execCallCount, mid.execCallCount, top.execCallCount]).toEqual([0, 1, 0]);
  });

  it('a stage shared by two dependents runs once', async () => {
    const cache = newCache();
    const shared = vtx({ name: 'shared', cache });
    const left = vtx({ name: 'left', cache, inputs: [shared] });
    const right = vtx({ name: 'right', cache, inputs: [shared] });
    const join = vtx({ name: 'join', cache, inputs: [left, right] });
    const [result] = await new Solver().solve([join]);
    expect(shared.execCallCount).toBe(1);
    expect(result!.result).toBe('join+left+shared+right+shared');
  });

  it('two distinct vertices with the same definition and inputs run once (dedupe by key)', async () => {
    const cache = newCache();
    const gate = deferred();
    const one = vtx({ name: 'twin', cache, gate: gate.promise });
    const two = vtx({ name: 'twin', cache, gate: gate.promise });
    const top = vtx({ name: 'top', cache, inputs: [one, two] });
    const solving = new Solver().solve([top]);
    setTimeout(gate.resolve, 10);
    await solving;
    expect(one.execCallCount + two.execCallCount).toBe(1);
  });

  it('identical work in flight in two concurrent solves runs once', async () => {
    const gate = deferred();
    const solver = new Solver();
    const a = vtx({ name: 'slow', cache: newCache(), gate: gate.promise });
    const b = vtx({ name: 'slow', cache: newCache(), gate: gate.promise });
    const both = Promise.all([solver.solve([a]), solver.solve([b])]);
    setTimeout(gate.resolve, 10);
    const [[ra], [rb]] = await both;
    expect(a.execCallCount + b.execCallCount).toBe(1);
    expect(ra!.result).toBe(rb!.result);
  });

  it('a step another process is running is waited for, then taken from the cache (claims)', async () => {
    const cache = newCache();
    const gate = deferred();
    // Two solvers share nothing in memory: they stand for two tsbuild processes on one store.
    const first = vtx({ name: 'slow', cache, step: 1, claims: true, gate: gate.promise });
    const second = vtx({ name: 'slow', cache, step: 1, claims: true, gate: gate.promise });
    const progress = recorder();
    const running = new Solver().solve([first]);
    await new Promise((r) => setTimeout(r, 10));
    const waiting = new Solver().solve([second], { sink: progress.sink });
    await new Promise((r) => setTimeout(r, 10));
    expect(progress.types()).toEqual(['step.start:1', 'step.log:1']);
    expect(progress.events[1]).toMatchObject({ stream: 'stderr', data: 'waiting for process 4242, which is running this same step\n' });
    gate.resolve();
    const [[ran], [found]] = await Promise.all([running, waiting]);
    expect([first.execCallCount, second.execCallCount]).toEqual([1, 0]);
    expect(found!.result).toBe(ran!.result);
    expect(progress.types()).toEqual(['step.start:1', 'step.log:1', 'step.cached:1']);
    expect(cache.claims.size).toBe(0);
  });

  it('an uncontended claim costs one more cache lookup and is released; --no-cache takes none', async () => {
    const cache = newCache();
    const step = vtx({ name: 'once', cache, claims: true });
    await new Solver().solve([step]);
    expect([step.execCallCount, step.cacheCallCount, cache.claimed.length, cache.claims.size]).toEqual([1, 2, 1, 0]);
    const again = vtx({ name: 'once', cache, claims: true });
    await new Solver().solve([again], { noCache: true });
    expect([again.execCallCount, cache.claimed.length]).toEqual([1, 1]);
  });

  it('independent branches run in parallel up to the concurrency bound', async () => {
    const cache = newCache();
    const gate = deferred();
    const branches = ['p1', 'p2', 'p3'].map((name) => vtx({ name, cache, gate: gate.promise }));
    const solving = new Solver({ concurrency: 2 }).solve(branches);
    await new Promise((r) => setTimeout(r, 20));
    expect(branches.filter((v) => v.running).length).toBe(2);
    gate.resolve();
    await solving;
    expect(branches.map((v) => v.execCallCount)).toEqual([1, 1, 1]);
  });

  it('the first failure cancels running and waiting steps, and solve returns once they stopped', async () => {
    const cache = newCache();
    const never = new Promise<void>(() => {});
    const slow = vtx({ name: 'slow', cache, step: 1, gate: never });
    const failing = vtx({ name: 'failing', cache, step: 2, fail: new StepFailedError('RUN false failed', { kind: 'exit', status: 3 }) });
    const queued = vtx({ name: 'queued', cache, step: 3 });
    const after = vtx({ name: 'after', cache, step: 4, inputs: [slow] });
    const progress = recorder();
    const solving = new Solver({ concurrency: 2 }).solve([after, failing, queued], { sink: progress.sink });
    await expect(solving).rejects.toBeInstanceOf(StepFailedError);
    expect(slow.aborted).toBe(true);
    expect(slow.running).toBe(false);
    expect(after.execCallCount).toBe(0);
    const error = progress.events.find((e) => e.type === 'step.error');
    expect(error).toMatchObject({ step: 2, code: 'E_STEP_FAILED', exitStatus: 3 });
    const cancelled = progress.events.filter((e) => e.type === 'step.cancelled').map((e) => 'step' in e && e.step);
    expect(cancelled.sort()).toEqual([1, 4]);
    expect([...cache.records.values()].filter((v) => /slow|failing|after/.test(v))).toEqual([]);
  });

  it('an external abort (Ctrl-C) stops running steps and rejects with CancelledError', async () => {
    const never = new Promise<void>(() => {});
    const running = vtx({ name: 'running', cache: newCache(), gate: never });
    const controller = new AbortController();
    const solving = new Solver().solve([running], { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(solving).rejects.toBeInstanceOf(CancelledError);
    expect(running.aborted).toBe(true);
  });

  it('cancelling one of two solves sharing a step leaves the step running for the other', async () => {
    const gate = deferred();
    const solver = new Solver();
    const a = vtx({ name: 'shared', cache: newCache(), gate: gate.promise });
    const b = vtx({ name: 'shared', cache: newCache(), gate: gate.promise });
    const controller = new AbortController();
    const first = solver.solve([a], { signal: controller.signal });
    const second = solver.solve([b]);
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(first).rejects.toBeInstanceOf(CancelledError);
    gate.resolve();
    const [result] = await second;
    expect(result!.result).toBe('shared');
    expect(a.aborted || b.aborted).toBe(false);
  });

  it('content digests are part of the key: changed content misses, unchanged hits', async () => {
    const cache = newCache();
    const solver = new Solver();
    const build = (contents: string[]) => {
      const copy = vtx({ name: 'copy', cache, contents });
      return { copy, run: vtx({ name: 'run', cache, inputs: [copy] }) };
    };
    await solver.solve([build(['sha256:aa']).run]);
    const same = build(['sha256:aa']);
    await solver.solve([same.run]);
    expect([same.copy.execCallCount, same.run.execCallCount]).toEqual([0, 0]);
    const changed = build(['sha256:bb']);
    await solver.solve([changed.run]);
    expect([changed.copy.execCallCount, changed.run.execCallCount]).toEqual([1, 1]);
  });

  it('a pure vertex passes its input key on, and is reported cached only when it ran after the same input before', async () => {
    const cache = newCache();
    const solver = new Solver();
    const graph = (label: string) => {
      const base = vtx({ name: 'base', cache, step: 1 });
      const config = vtx({ name: label, cache, step: 2, pure: true, inputs: [base] });
      return { base, config, run: vtx({ name: 'run', cache, step: 3, inputs: [config] }) };
    };
    const first = graph('LABEL a=1');
    const [r1] = await solver.solve([first.run]);
    expect(first.config.execCallCount).toBe(1);
    const second = graph('LABEL a=2');
    const progress = recorder();
    const [r2] = await solver.solve([second.run], { sink: progress.sink });
    expect(r2!.key).toBe(r1!.key);
    expect(second.run.execCallCount).toBe(0);
    expect(progress.types()).toEqual(['step.cached:1', 'step.start:2', 'step.done:2', 'step.cached:3']);
    const third = graph('LABEL a=2');
    const again = recorder();
    await solver.solve([third.run], { sink: again.sink });
    expect(again.types()).toEqual(['step.cached:1', 'step.cached:2', 'step.cached:3']);
  });

  it('emits start, log and done for executed steps, in order', async () => {
    const progress = recorder();
    await new Solver().solve([vtx({ name: 'one', cache: newCache(), step: 7 })], { sink: progress.sink });
    expect(progress.types()).toEqual(['step.start:7', 'step.log:7', 'step.done:7']);
  });

  it('a huge graph (2,000 vertices, wide and deep) solves with each vertex run once', async () => {
    const cache = newCache();
    let layer = [vtx({ name: 'root', cache })];
    const all = [...layer];
    for (let depth = 0; depth < 40; depth++) {
      layer = Array.from({ length: 50 }, (_, i) => vtx({ name: `v${depth}-${i}`, cache, ownValueOnly: true, inputs: [layer[i % layer.length]!, layer[(i * 7) % layer.length]!] }));
      all.push(...layer);
    }
    await new Solver({ concurrency: 4 }).solve(layer);
    expect(all.every((v) => v.execCallCount === 1)).toBe(true);
  });
});
