#!/usr/bin/env node
// Benchmark: the sandbox helper's own cost per step — spawn + namespaces + overlay mount +
// /proc, /dev, pivot_root, seccomp + exec of /bin/true + teardown — next to a bare fork+exec
// of /bin/true and to the same setup done with util-linux (`unshare --mount --pid --fork --net
// --uts --ipc` + `mount -t overlay` + `chroot` + `/bin/true`), all measured in the same run,
// interleaved, from the same Node process. Reports medians and ratios; the target is
// helper ≤ 1.5 × util-linux. Needs root (util-linux cannot mount otherwise).
//
//   make -C native && node bench/sandbox-overhead.js [--runs 200] [--json]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { namespaceFloorCommand } from './lib/namespace-floor.js';
import { median } from './lib/stats.js';

const REPO = resolve(import.meta.dirname, '..');
const HELPER = join(REPO, 'native/build/tsbuild-sandbox');
const ROOTFS = join(REPO, '.cache/fixtures/busybox-rootfs');

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '200' }, json: { type: 'boolean', default: false } },
});
const RUNS = Number(values.runs);
const WARMUP = 10;

if (process.getuid() !== 0) {
  console.error('bench/sandbox-overhead: run as root (util-linux needs it to mount the overlay).');
  process.exit(2);
}
if (!existsSync(HELPER)) {
  console.error('bench/sandbox-overhead: native/build/tsbuild-sandbox is missing; run `make -C native`.');
  process.exit(2);
}
if (!existsSync(join(ROOTFS, 'bin/busybox'))) {
  spawnSync('bash', [join(REPO, 'fixtures/base/make-busybox-rootfs.sh'), ROOTFS], { stdio: 'inherit' });
}

const scratch = mkdtempSync('/tmp/tsbuild-bench-sandbox-');
const dirs = Object.fromEntries(['upper', 'work', 'mnt'].map((d) => [d, join(scratch, d)]));
for (const dir of Object.values(dirs)) mkdirSync(dir);

const contenders = {
  bare: ['/bin/true', []],
  helper: [HELPER, ['--lower', ROOTFS, '--upper', dirs.upper, '--work', dirs.work, '--', '/bin/true']],
  // The same with a memory and a pids limit: the cost of creating and removing the cgroups.
  'helper+limits': [
    HELPER,
    ['--lower', ROOTFS, '--upper', dirs.upper, '--work', dirs.work, '--memory', String(1 << 30), '--pids', '1000', '--', '/bin/true'],
  ],
  'util-linux': namespaceFloorCommand(ROOTFS, dirs),
};

function timeOnce([file, args]) {
  const started = process.hrtime.bigint();
  const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${file} failed (${r.status}): ${r.stderr}`);
  return ms;
}


try {
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let i = 0; i < WARMUP + RUNS; i++) {
    // Rotate the order so that no contender always runs right after another.
    const names = Object.keys(contenders);
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length];
      const ms = timeOnce(contenders[name]);
      if (i >= WARMUP) samples[name].push(ms);
    }
  }
  const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  const result = {
    runs: RUNS,
    medianMs: med,
    helperOverBare: med.helper / med.bare,
    limitsOverHelper: med['helper+limits'] / med.helper,
    helperOverUtilLinux: med.helper / med['util-linux'],
    target: 'helper ≤ 1.5 × util-linux',
    met: med.helper / med['util-linux'] <= 1.5,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`sandbox overhead per step, median of ${RUNS} runs (same run, interleaved)`);
    for (const [name, ms] of Object.entries(med)) console.log(`  ${name.padEnd(13)} ${ms.toFixed(2).padStart(8)} ms`);
    console.log(`  helper / bare fork+exec: ${result.helperOverBare.toFixed(2)}×`);
    console.log(`  helper+limits / helper:  ${result.limitsOverHelper.toFixed(2)}×`);
    console.log(`  helper / util-linux:     ${result.helperOverUtilLinux.toFixed(2)}×  (target ≤ 1.5×: ${result.met ? 'met' : 'NOT met'})`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
