import { describe, expect, it } from 'vitest';
import { createRenderer } from '../../src/ui/index.js';
import type { BuildEvent } from '../../src/events.js';
import { Capture } from './capture.js';
import { failure, STEPS, success, T0 } from './script.js';

async function renderPlain(events: BuildEvent[], color = false): Promise<string> {
  const out = new Capture();
  const renderer = createRenderer('plain', { out, color });
  for (const event of events) renderer.sink(event);
  await renderer.finish();
  return out.text();
}

describe('plain renderer', () => {
  it('prints a successful build as BuildKit-style lines (golden)', async () => {
    await expect(await renderPlain(success())).toMatchFileSnapshot('golden/plain-success.txt');
  });

  it('prints a failed build with the step tail and the recipe excerpt (golden)', async () => {
    await expect(await renderPlain(failure())).toMatchFileSnapshot('golden/plain-failure.txt');
  });

  it('prefixes every log line with the step and the seconds since the step started', async () => {
    const text = await renderPlain(success());
    expect(text).toContain('#3 0.412 cc -c main.c\n');
    // The partial "cc -c ut" + "il.c" is one line, stamped when it was completed.
    expect(text).toContain('#3 0.500 cc -c util.c\n');
    // A partial line with no newline is flushed when the step ends, before DONE.
    expect(text).toMatch(/#3 0\.800 cc -o app main\.o util\.o\n#3 DONE 3\.2s\n/);
  });

  it('has no escape sequences without colour, and colours the states with it', async () => {
    expect(await renderPlain(success())).not.toContain('\u001b');
    const colored = await renderPlain(success(), true);
    expect(colored).toContain('#2 \u001b[32mDONE\u001b[39m 0.1s');
    expect(colored).toContain('#1 \u001b[36mCACHED\u001b[39m');
  });

  it('prints a transfer at most once a second, and when done', async () => {
    const events: BuildEvent[] = [{ type: 'build.start', time: T0, steps: STEPS }];
    for (let i = 0; i <= 30; i++) {
      events.push({ type: 'transfer', time: T0 + i * 100, id: 'pull:base', label: 'pull busybox', current: i * 1000, total: 30_000, done: i === 30 });
    }
    const lines = (await renderPlain(events)).trim().split('\n');
    expect(lines).toEqual([
      '=> pull busybox: 0B / 30.0kB',
      '=> pull busybox: 10.0kB / 30.0kB',
      '=> pull busybox: 20.0kB / 30.0kB',
      '=> pull busybox: 30.0kB done',
    ]);
  });

  it('says CANCELLED for a cancelled build', async () => {
    const events: BuildEvent[] = [
      { type: 'build.start', time: T0, steps: STEPS },
      { type: 'step.start', time: T0, step: 3 },
      { type: 'step.log', time: T0 + 5, step: 3, stream: 'stdout', data: 'half a line' },
      { type: 'build.error', time: T0 + 10, durationMs: 10, code: 'E_CANCELLED', message: 'build cancelled' },
    ];
    expect(await renderPlain(events)).toBe(
      '#3 [build 1/1] RUN make\n#3 0.005 half a line\n#3 CANCELLED\n' +
        'CANCELLED: build cancelled [E_CANCELLED] after 0.0s\n',
    );
  });
});

describe('step titles', () => {
  it('shows an unnamed stage as stage-N, as BuildKit does', async () => {
    const events: BuildEvent[] = [
      { type: 'build.start', time: T0, steps: [{ id: 1, stage: '2', index: 1, total: 3, instruction: 'RUN echo done' }] },
      { type: 'step.start', time: T0, step: 1 },
    ];
    expect(await renderPlain(events)).toBe('#1 [stage-2 1/3] RUN echo done\n');
  });

  it('keeps a heredoc instruction on one line', async () => {
    const events: BuildEvent[] = [
      { type: 'build.start', time: T0, steps: [{ id: 1, stage: 'build', index: 1, total: 1, instruction: 'RUN <<EOF\nset -e\nmake\nEOF' }] },
      { type: 'step.start', time: T0, step: 1 },
    ];
    expect(await renderPlain(events)).toBe('#1 [build 1/1] RUN <<EOF …\n');
  });
});

describe('steps that never started', () => {
  it('are named before CACHED or CANCELLED, so every #n has its title', async () => {
    const events: BuildEvent[] = [
      { type: 'build.start', time: T0, steps: STEPS },
      { type: 'step.cached', time: T0, step: 1 },
      { type: 'step.cancelled', time: T0, step: 5 },
    ];
    expect(await renderPlain(events)).toBe(
      '#1 [base 1/2] FROM busybox\n#1 CACHED\n#5 [stage-3 1/1] COPY --from=build /out /app\n#5 CANCELLED\n',
    );
  });
});
