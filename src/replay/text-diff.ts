// A unified diff of two small texts, for divergence reports ("which file changed, and how").
// Myers' O(ND) algorithm over lines; inputs are capped by the caller (small text files only).

type Op = { kind: ' ' | '-' | '+'; line: string };

function editScript(a: string[], b: string[]): Op[] {
  const max = a.length + b.length;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!);
      let x = down ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < a.length && y < b.length && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= a.length && y >= b.length) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from the end to recover the edits.
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) ops.push({ kind: ' ', line: a[--x]! }), y--;
    if (d > 0) {
      if (down) ops.push({ kind: '+', line: b[--y]! });
      else ops.push({ kind: '-', line: a[--x]! });
    }
  }
  return ops.reverse();
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** `--- a/path` / `+++ b/path` and @@ hunks with `context` lines around each change; '' when equal. */
export function unifiedDiff(before: string, after: string, path: string, context = 3): string {
  const ops = editScript(splitLines(before), splitLines(after));
  if (ops.every((op) => op.kind === ' ')) return '';
  const out = [`--- a${path}`, `+++ b${path}`];
  let i = 0;
  let aLine = 1;
  let bLine = 1;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++, aLine++, bLine++;
      continue;
    }
    // A hunk: back up `context` lines, run until `2*context` unchanged lines in a row.
    const start = Math.max(0, i - context);
    const lead = i - start;
    let end = i;
    let quiet = 0;
    while (end < ops.length && quiet <= 2 * context) {
      quiet = ops[end]!.kind === ' ' ? quiet + 1 : 0;
      end++;
    }
    end -= Math.max(0, quiet - context);
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((op) => op.kind !== '+').length;
    const bCount = hunk.filter((op) => op.kind !== '-').length;
    // GNU convention: an empty range names the line before it.
    const aStart = aLine - lead - (aCount === 0 ? 1 : 0);
    const bStart = bLine - lead - (bCount === 0 ? 1 : 0);
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    for (const op of ops.slice(i, end)) {
      if (op.kind !== '+') aLine++;
      if (op.kind !== '-') bLine++;
    }
    i = end;
  }
  return out.join('\n') + '\n';
}
