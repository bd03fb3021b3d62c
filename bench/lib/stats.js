// Statistics shared by the benchmarks: medians of repeated runs, and alternation so that
// contenders measured in one run see the same machine load (A B A B, not A A B B).

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values) {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Wall milliseconds of one call of fn (awaited when it returns a promise). */
export async function timed(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/**
 * Runs each contender `runs` times, interleaved and with the order rotated every round so
 * that none always follows another; returns the list of results of each, by name.
 * `contenders` maps a name to `(round) => result` (sync or async).
 */
export async function alternate(contenders, runs) {
  const names = Object.keys(contenders);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      results[name].push(await contenders[name](round));
    }
  }
  return results;
}
