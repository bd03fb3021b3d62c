import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineBuffer, LineTail, MAX_PARTIAL_CHARS } from '../../src/ui/lines.js';

describe('LineBuffer', () => {
  it('holds a partial line until its end arrives', () => {
    const buffer = new LineBuffer();
    expect(buffer.push('cc -c ma')).toEqual([]);
    expect(buffer.push('in.c\ncc -c ut')).toEqual(['cc -c main.c']);
    expect(buffer.push('il.c\n')).toEqual(['cc -c util.c']);
    expect(buffer.flush()).toBeUndefined();
  });

  it('flushes the unterminated rest at the end of the step', () => {
    const buffer = new LineBuffer();
    buffer.push('done\nno newline');
    expect(buffer.flush()).toBe('no newline');
    expect(buffer.flush()).toBeUndefined();
  });

  it('treats \\r\\n as one break even when split across chunks, and a lone \\r as a break', () => {
    const buffer = new LineBuffer();
    expect(buffer.push('a\r')).toEqual(['a']);
    expect(buffer.push('\nb\r\n')).toEqual(['b']);
    expect(buffer.push(' 10%\r 20%\r')).toEqual([' 10%', ' 20%']);
    expect(buffer.push('\n\n')).toEqual(['']);
  });

  it('gives the same lines however the text is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', '\n', '\r', ' '), { maxLength: 60 }), fc.array(fc.nat(60)), (chars, cuts) => {
        const text = chars.join('');
        const whole = new LineBuffer();
        const expected = [...whole.push(text), whole.flush()].filter((l) => l !== undefined);
        const pieces = new LineBuffer();
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
        const got: string[] = [];
        let from = 0;
        for (const point of [...points, text.length]) {
          got.push(...pieces.push(text.slice(from, point)));
          from = point;
        }
        const rest = pieces.flush();
        if (rest !== undefined) got.push(rest);
        expect(got).toEqual(expected);
      }),
    );
  });

  it('never holds more than MAX_PARTIAL_CHARS of an endless line', () => {
    const buffer = new LineBuffer();
    const chunk = 'x'.repeat(10_000);
    let emitted = 0;
    for (let i = 0; i < 20; i++) emitted += buffer.push(chunk).length;
    expect(emitted).toBeGreaterThan(0);
    expect(buffer.flush()!.length).toBeLessThanOrEqual(MAX_PARTIAL_CHARS);
  });
});

describe('LineTail', () => {
  it('keeps only the last lines', () => {
    const tail = new LineTail(3);
    for (let i = 0; i < 100; i++) tail.push([`line ${i}`]);
    tail.push(['a', 'b']);
    expect(tail.toArray()).toEqual(['line 99', 'a', 'b']);
  });
});
