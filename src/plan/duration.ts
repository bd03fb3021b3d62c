// Go's time.Duration text, which HEALTHCHECK flags use and BuildKit's history prints.

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** `1m30s` → nanoseconds; undefined when the text is not a Go duration. Negative is refused. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    consumed += match[0].length;
  }
  return consumed === text.length && consumed > 0 ? Math.round(total) : undefined;
}

/** Nanoseconds as Go prints a Duration: `1m30s`, `1h0m0s`, `500ms`, `0s`. */
export function formatGoDuration(nanos: number): string {
  if (nanos === 0) return '0s';
  if (nanos < 1e3) return `${nanos}ns`;
  if (nanos < 1e6) return `${trimDecimal(nanos / 1e3)}µs`;
  if (nanos < 1e9) return `${trimDecimal(nanos / 1e6)}ms`;
  const hours = Math.floor(nanos / 3600e9);
  const minutes = Math.floor((nanos % 3600e9) / 60e9);
  const seconds = `${trimDecimal((nanos % 60e9) / 1e9)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

function trimDecimal(value: number): string {
  return value.toFixed(9).replace(/\.?0+$/, '');
}
