// Shared by bench/layer-*.js: each measurement runs in a fresh child process (the same script
// with --child KIND), kinds alternate run after run, and each child reports its wall time,
// CPU time and peak RSS as one JSON line.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');

/** Runs `script --child KIND …args` `runs` times per kind, alternating; results by kind. */
export function alternate(script, kinds, args, runs) {
  const results = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let run = 0; run < runs; run++) {
    for (const kind of kinds) {
      const child = spawnSync(process.execPath, [script, '--child', kind, ...args], { encoding: 'utf8' });
      if (child.status !== 0) {
        console.error(child.stderr);
        process.exit(1);
      }
      results[kind].push(JSON.parse(child.stdout));
    }
  }
  return results;
}

export function median(list) {
  return [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
}

/** Times `work` in this (child) process and prints the measurement with `extra` fields. */
export async function measureChild(work) {
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const extra = (await work()) ?? {};
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  // VmHWM, not getrusage's maxRSS: Linux carries ru_maxrss across exec from the parent.
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  console.log(JSON.stringify({ ...extra, ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMB: Math.round(hwm / 1024) }));
}
