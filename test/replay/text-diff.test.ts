import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { unifiedDiff } from '../../src/replay/text-diff.js';

/** Applies a unified diff to `before`, to check diffs by their meaning, not their text. */
function applyDiff(before: string, diff: string): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let pos = 0;
  const lines = diff.replace(/\n$/, '').split('\n').slice(2);
  for (const line of lines) {
    const hunk = /^@@ -(\d+),(\d+) /.exec(line);
    if (hunk) {
      const start = Number(hunk[2]) === 0 ? Number(hunk[1]) : Number(hunk[1]) - 1;
      while (pos < start) out.push(a[pos++]!);
      continue;
    }
    if (line[0] === ' ') out.push(a[pos++]!);
    else if (line[0] === '-') pos++;
    else if (line[0] === '+') out.push(line.slice(1));
  }
  while (pos < a.length) out.push(a[pos++]!);
  return out.length ? out.join('\n') + '\n' : '';
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', '/f')).toBe('');
  });

  it('shows one changed line with its context, like diff -u', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
    const after = before.replace('5\n', 'five\n');
    expect(unifiedDiff(before, after, '/etc/x')).toBe(
      ['--- a/etc/x', '+++ b/etc/x', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    );
  });

  it('reports a date written into a file as a one-line change', () => {
    const diff = unifiedDiff('built at Mon\n', 'built at Tue\n', '/stamp');
    expect(diff).toContain('-built at Mon');
    expect(diff).toContain('+built at Tue');
  });

  it('produces a diff that turns the old text into the new one (property)', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 }).map((l) => (l.length ? l.join('\n') + '\n' : ''));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const diff = unifiedDiff(before, after, '/p');
        expect(diff === '' ? before : applyDiff(before, diff)).toBe(after);
      }),
      { numRuns: 300 },
    );
  });
});
