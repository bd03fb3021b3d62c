import { describe, expect, it } from 'vitest';
import { chooseProgressMode } from '../../src/ui/index.js';

describe('chooseProgressMode', () => {
  it('auto is tty on a terminal and plain elsewhere', () => {
    expect(chooseProgressMode('auto', true)).toBe('tty');
    expect(chooseProgressMode('auto', false)).toBe('plain');
  });

  it('keeps an explicit mode, terminal or not', () => {
    for (const mode of ['tty', 'plain', 'json', 'quiet'] as const) {
      expect(chooseProgressMode(mode, false)).toBe(mode);
      expect(chooseProgressMode(mode, true)).toBe(mode);
    }
  });
});
