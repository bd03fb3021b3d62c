import { describe, expect, it } from 'vitest';
import { formatSize, parseDuration, parseSize } from '../../src/store/index.js';

describe('units', () => {
  it.each([
    ['0', 0],
    ['512', 512],
    ['10GB', 10e9],
    ['10gb', 10e9],
    ['1.5G', 1.5e9],
    ['500MB', 500e6],
    ['2GiB', 2 * 1024 ** 3],
    ['64 KiB', 65_536],
  ])('size %s = %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each([
    ['24h', 86_400_000],
    ['90m', 5_400_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['1.5s', 1500],
    ['250ms', 250],
  ])('duration %s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'GB', '10 parsecs', '-1GB', '1e3'])('rejects size %j', (text) => expect(() => parseSize(text)).toThrow('invalid size'));
  it.each(['', '24', 'h', '1h 30m', '2w', '1h-5m'])('rejects duration %j', (text) => expect(() => parseDuration(text)).toThrow('invalid duration'));

  it('formats sizes in decimal units', () => {
    expect([0, 999, 1000, 2_130_000, 15_500_000_000].map(formatSize)).toEqual(['0B', '999B', '1.00kB', '2.13MB', '15.5GB']);
  });
});
