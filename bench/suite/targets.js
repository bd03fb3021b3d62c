// The targets of issue 10, evaluated per row: each says met, or by how much it was missed.

const RSS_LIMIT_MB = 200;

/** A verdict on `value` against a bound: at most (≤) or at least (≥) `target`. */
function verdict(name, value, bound, target) {
  if (value == null || !Number.isFinite(value)) return { name, value: null, target, met: null, text: `${name}: not measured` };
  const met = bound === '≤' ? value <= target : value >= target;
  const miss = bound === '≤' ? (value - target) / target : (target - value) / target;
  const text = `${name} ${value.toFixed(2)} ${bound} ${target}: ${met ? 'met' : `missed by ${(miss * 100).toFixed(0)}%`}`;
  return { name, value: +value.toFixed(3), bound, target, met, text };
}

/** The targets that apply to one row ({ workload, case, ratios, floor, maxRssMB }). */
export function evaluate(row) {
  const out = [];
  const peerTarget = { cold: 1.0, warm: 0.5, incremental: 0.5 }[row.case];
  if (peerTarget !== undefined && row.ratios.fasterPeer != null) {
    out.push(verdict('tsbuild/faster peer', row.ratios.fasterPeer, '≤', peerTarget));
  }
  if (row.floor?.target) out.push(verdict(row.floor.what, row.floor.ratio, row.floor.target.bound, row.floor.target.value));
  if (row.maxRssMB != null) out.push(verdict('peak RSS MB', row.maxRssMB, '≤', RSS_LIMIT_MB));
  return out;
}
