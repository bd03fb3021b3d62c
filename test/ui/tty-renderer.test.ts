// The tty renderer end to end, into a fake terminal stream: ink really draws. This file must
// not import ink itself: the renderer loads it, and the CI test below depends on that.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRenderer } from '../../src/ui/index.js';
import { FRAMES_PER_SECOND } from '../../src/ui/tty/renderer.js';
import type { BuildEvent } from '../../src/events.js';
import { Capture } from './capture.js';
import { failure, midBuild, success, T0 } from './script.js';

const frames = (text: string) => text.split('[+] Building').length - 1;
const count = (text: string, needle: string) => text.split(needle).length - 1;
const savedCI = process.env.CI;
/** Loading ink takes a while on a busy machine; frames then come every 100 ms. */
const waitLong = { timeout: 15_000 };

afterEach(() => {
  if (savedCI === undefined) delete process.env.CI;
  else process.env.CI = savedCI;
});

describe('tty renderer', () => {
  it('draws live even when CI is set, because the mode was chosen explicitly', async () => {
    // Given CI=true in the environment (ink would otherwise stop redrawing)
    process.env.CI = 'true';
    const out = new Capture();
    let clock = T0 + 1_000;
    const renderer = createRenderer('tty', { out, color: false, columns: 100, rows: 20, now: () => clock });
    for (const event of midBuild()) renderer.sink(event);
    // When the build is running, Then the live region shows the running stages
    await vi.waitFor(() => expect(out.text()).toContain('[+] Building 1.0s (2/5) 2 running'), waitLong);
    clock += 1_000;
    await vi.waitFor(() => expect(out.text()).toContain('[+] Building 2.0s (2/5) 2 running'), waitLong);
    expect(process.env.CI).toBe('true');
    for (const event of success().slice(midBuild().length)) renderer.sink(event);
    await renderer.finish();
    expect(out.text()).toContain('✔ Built in 3.8s: 5 steps, 4 run, 1 cached');
  });

  it('re-renders a few times a second however many events arrive, and prints each finished step once', async () => {
    const out = new Capture();
    const renderer = createRenderer('tty', { out, color: false, columns: 100, rows: 20, now: () => T0 + 1_000 });
    for (const event of midBuild()) renderer.sink(event);
    const started = Date.now();
    // A flood: 20,000 log events within a few hundred milliseconds
    for (let burst = 0; burst < 4; burst++) {
      for (let i = 0; i < 5_000; i++) {
        renderer.sink({ type: 'step.log', time: T0 + 900, step: 3, stream: 'stdout', data: `line ${burst}.${i}\n` });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const elapsed = Date.now() - started;
    for (const event of success().slice(midBuild().length)) renderer.sink(event);
    await renderer.finish();
    const text = out.text();
    // Frames follow the clock, not the events: at most the frame rate, plus the first and last.
    expect(frames(text)).toBeLessThanOrEqual(Math.ceil((elapsed / 1000) * FRAMES_PER_SECOND) + 3);
    expect(frames(text)).toBeGreaterThanOrEqual(2);
    // The tail shows the latest lines; the flood itself is not kept.
    expect(text).toContain('line 3.4999');
    expect(count(text, 'line 0.0\n')).toBe(0);
    // <Static>: each finished step is written exactly once.
    expect(count(text, '=> [build 1/1] RUN make')).toBe(1);
    expect(count(text, '=> CACHED [base 1/2] FROM busybox')).toBe(1);
  });

  it('leaves the failure report on screen after a failed build', async () => {
    const out = new Capture();
    const renderer = createRenderer('tty', { out, color: false, columns: 100, rows: 30, now: () => T0 + 2_000 });
    for (const event of failure()) renderer.sink(event);
    await renderer.finish();
    const text = out.text();
    expect(text).toContain('✗ ERROR [build 1/1] RUN make (exit status 2)');
    expect(text).toContain('>>> 4 | RUN make');
    expect(text).toContain('error: RUN make: exit status 2 [E_STEP_FAILED] after 1.3s');
  });

  it('prints a report taller than the terminal without clearing the screen', async () => {
    // Given an 8-row terminal and a failure report of some 20 lines
    const out = new Capture();
    const renderer = createRenderer('tty', { out, color: false, columns: 100, rows: 8, now: () => T0 + 1_000 });
    const events = midBuild();
    for (let i = 0; i < 30; i++) events.push({ type: 'step.log', time: T0 + 900, step: 3, stream: 'stdout', data: `make line ${i}\n` });
    for (const event of events) renderer.sink(event);
    await vi.waitFor(() => expect(out.text()).toContain('make line 29'), waitLong);
    for (const event of failure().slice(midBuild().length)) renderer.sink(event);
    await renderer.finish();
    const text = out.text();
    // Then it is all there, once, and the screen (and scrollback) were never wiped
    expect(text).not.toMatch(/\u001b\[[23]J/);
    expect(count(text, '>>> 4 | RUN make')).toBe(1);
    expect(count(text, 'error: RUN make: exit status 2')).toBe(1);
  });

  it('draws nothing but releases the stream when no build started, and finishes once', async () => {
    const out = new Capture();
    const renderer = createRenderer('tty', { out, color: false, columns: 100, rows: 30 });
    await renderer.finish();
    await renderer.finish();
    expect(out.text()).not.toContain('Building');
  });

  it('follows the terminal when it is resized', async () => {
    const out = Object.assign(new Capture(), { columns: 100, rows: 30 });
    const renderer = createRenderer('tty', { out, color: false, columns: 100, rows: 30, now: () => T0 + 1_000 });
    const events: BuildEvent[] = midBuild();
    for (const event of events) renderer.sink(event);
    await vi.waitFor(() => expect(out.text()).toContain('running'), waitLong);
    // Side by side at 100 columns; stacked after a resize to 60
    expect(out.text()).toMatch(/RUN make +0\.8s +. \[test 1\/1\]/);
    out.columns = 60;
    out.chunks = [];
    out.emit('resize');
    await vi.waitFor(() => expect(out.text()).toContain('running'), waitLong);
    const lastFrame = out.text().slice(out.text().lastIndexOf('[+] Building'));
    expect(lastFrame).toMatch(/RUN make +0\.8s\n/);
    expect(lastFrame).not.toMatch(/RUN make +0\.8s +. \[test 1\/1\]/);
    await renderer.finish();
  });
});
