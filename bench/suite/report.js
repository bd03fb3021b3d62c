// The suite's markdown report: one row per workload × case, then the physical references and
// the reproducibility of each builder.

const cell = (value, unit = '') => (value == null ? '–' : `${value}${unit}`);
const seconds = (ms) => (ms == null ? '–' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`);

/** The markdown text of a suite result (the JSON written beside it). */
export function markdown(result) {
  const { meta, references: r, builders, rows, reproducibility, skipped } = result;
  const peers = builders.filter((b) => b !== 'tsbuild');
  const lines = [
    `Benchmark suite${meta.quick ? ' (quick)' : ''}, ${meta.date}: ${meta.machine.cpus} CPUs (${meta.machine.cpu}), ` +
      `${meta.machine.memoryGB} GB, Linux ${meta.machine.kernel}; ` +
      `${Object.entries(meta.versions).map(([b, v]) => `${b} ${v}`).join(', ')}. ` +
      `Median of ${meta.runs} run(s) (cold: ${meta.coldRuns}), builders alternated; ${meta.seconds} s in all.`,
    '',
    `| workload | case | tsbuild | ${peers.map((p) => `${p} | tsbuild/${p}`).join(' | ')}${peers.length ? ' | ' : ''}physical reference | peak RSS | targets |`,
    `|---|---|---:|${peers.map(() => '---:|---:|').join('')}---|---:|---|`,
  ];
  for (const row of rows) {
    const perStep = row.floor?.floorMs ? ` (${row.floor.ms} vs ${row.floor.floorMs} ms a step)` : '';
    const floor = row.floor ? `${row.floor.what}: ${row.floor.ratio}${perStep}` : '–';
    const targets = row.unavailable ? `not measured: ${row.unavailable}` : row.targets.map((t) => t.text).join('; ') || '–';
    const peerCells = peers.map((p) => `${seconds(row.ms[p])} | ${cell(row.ratios[p], '×')}`).join(' | ');
    lines.push(
      `| ${row.workload} | ${row.case} | ${seconds(row.ms.tsbuild)} | ${peerCells}${peers.length ? ' | ' : ''}${floor} | ${cell(row.maxRssMB, ' MB')} | ${targets} |`,
    );
  }
  lines.push(
    '',
    `Physical references (same run): disk write ${r.diskWriteMBps} MB/s (fsync), read ${r.diskReadMBps} MB/s (page cache), ` +
      `sha256 ${r.sha256MBps} MB/s over ${r.megabytes} MB; fork+exec /bin/true ${r.forkExecMs} ms; ` +
      `namespace + overlay + chroot + /bin/true floor ${r.namespaceFloorMs} ms.`,
    '',
    '| reproducible (two cold builds, same digest?) | ' + builders.join(' | ') + ' |',
    '|---|' + builders.map(() => '---|').join(''),
  );
  for (const [workload, byBuilder] of Object.entries(reproducibility)) {
    lines.push(`| ${workload} | ${builders.map((b) => (byBuilder[b]?.same ? 'yes' : 'no')).join(' | ')} |`);
  }
  if (skipped.length) lines.push('', ...skipped.map((s) => `Skipped ${s.what}: ${s.reason}.`));
  return lines.join('\n') + '\n';
}
