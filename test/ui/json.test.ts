import { describe, expect, it } from 'vitest';
import { createRenderer } from '../../src/ui/index.js';
import { Capture } from './capture.js';
import { failure, success } from './script.js';

describe('json renderer', () => {
  it('writes exactly the events, one JSON object per line, and they parse back equal', async () => {
    for (const events of [success(), failure()]) {
      const out = new Capture();
      const renderer = createRenderer('json', { out, color: true });
      for (const event of events) renderer.sink(event);
      await renderer.finish();
      const text = out.text();
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      expect(lines).toHaveLength(events.length);
      expect(lines.map((line) => JSON.parse(line))).toEqual(events);
      // Log data with newlines stays inside its line.
      expect(text).toContain('"data":"cc -c main.c\\ncc -c ut"');
    }
  });
});

describe('quiet renderer', () => {
  it('writes nothing', async () => {
    const out = new Capture();
    const renderer = createRenderer('quiet', { out, color: false });
    for (const event of success()) renderer.sink(event);
    await renderer.finish();
    expect(out.text()).toBe('');
  });
});
