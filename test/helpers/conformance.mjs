// The conformance suite's expected-result format, shared by the reference generator
// (scripts/conformance-reference.mjs, run against Docker) and the tests (run against tsbuild).

/** Lines of `after` that are new or changed against `before`, and `- path` for removed paths. */
export function diffListings(before, after) {
  const pathOf = (line) => line.slice(0, line.indexOf(' '));
  const beforeByPath = new Map(before.map((l) => [pathOf(l), l]));
  const afterPaths = new Set(after.map(pathOf));
  const changed = after.filter((l) => beforeByPath.get(pathOf(l)) !== l);
  const removed = [...beforeByPath.keys()].filter((p) => !afterPaths.has(p)).map((p) => `- ${p}`);
  return [...changed, ...removed].sort();
}

export function formatExpected(changes, config) {
  return `files\n${changes.join('\n')}\nconfig\n${JSON.stringify(config, null, 2)}\n`;
}
