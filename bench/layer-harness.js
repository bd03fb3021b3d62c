// Shared by bench/layer-*.js: each measurement runs in a fresh child process (the same script
// with --child KIND), kinds alternate run after run, and each child reports its wall time,
// CPU time and peak RSS as one JSON line.

import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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

export { median } from './lib/stats.js';

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

/** A deterministic tree of mixed files under .cache/bench/, generated once: sizes and bytes from fixed seeds, so every run measures the same input. */
export function generateTree(total) {
  const target = join(REPO, `.cache/bench/layer-write-${Math.round(total / 2 ** 20)}m`);
  if (existsSync(join(target, '.complete'))) return target;
  const temp = `${target}.tmp`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let written = 0;
  let index = 0;
  while (written < total) {
    const kind = random();
    // By bytes: ~10% small (0.5–16 KB), ~30% medium (64 KB–2 MB), ~60% large (16–64 MB).
    const size = Math.min(
      total - written,
      kind < 0.9 ? 512 + Math.floor(random() * 16_000) : kind < 0.995 ? 65_536 + Math.floor(random() * 2_000_000) : (16 << 20) + Math.floor(random() * (48 << 20)),
    );
    const sub = join(temp, `d${index % 37}`, `s${index % 5}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${index}.bin`), cipher.update(Buffer.alloc(size)));
    written += size;
    index++;
  }
  writeFileSync(join(temp, '.complete'), '');
  renameSync(temp, target);
  execFileSync('sync');
  return target;
}
