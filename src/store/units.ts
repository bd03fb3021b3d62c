// Human units for the prune and du commands: sizes (`10GB`, `512MiB`, `1.5g`) and durations
// (`24h`, `90m`, `1h30m`, `7d`), parsed strictly so a typo is an error, not a surprise.

import { UsageError } from '../errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4,
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bytes in a size like `10GB` (decimal) or `512MiB` (binary). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`invalid size ${JSON.stringify(text)}`, { hint: 'Use a number with an optional unit: 500MB, 10GB, 2GiB.' });
  }
  return Math.floor(Number(match[1]) * unit);
}

/** Milliseconds in a duration like `24h`, `1h30m`, `7d`. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) {
    throw new UsageError(`invalid duration ${JSON.stringify(text)}`, { hint: 'Use units ms, s, m, h, d: 24h, 90m, 1h30m, 7d.' });
  }
  return parts.reduce((total, p) => total + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)}${units[unit]}`;
}
