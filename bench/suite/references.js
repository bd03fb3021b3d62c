// The physical references, measured in the same run as the builds: sequential disk write and
// read, sha256 of the same bytes, fork+exec of /bin/true, and the namespace + overlay + exec
// floor of one RUN step.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { keystream } from '../lib/bytes.js';
import { median } from '../lib/stats.js';
import { namespaceFloorCommand } from '../lib/namespace-floor.js';

const CHUNK = 4 << 20;

/** Returns { diskWriteMBps, diskReadMBps, sha256MBps, forkExecMs, namespaceFloorMs, … }. */
export function measureReferences({ work, rootfs, megabytes, spawns }) {
  const file = join(work, 'reference.bin');
  const bytes = megabytes << 20;
  const next = keystream('reference');
  const chunks = Array.from({ length: bytes / CHUNK }, () => next(CHUNK));

  let started = performance.now();
  const out = openSync(file, 'w');
  for (const chunk of chunks) writeSync(out, chunk);
  fsyncSync(out);
  closeSync(out);
  const writeMs = performance.now() - started;

  // Read back through the page cache, as builders read a context that was just written.
  started = performance.now();
  const input = openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  while (readSync(input, buffer, 0, CHUNK, null) > 0);
  closeSync(input);
  const readMs = performance.now() - started;
  rmSync(file);

  started = performance.now();
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  hash.digest();
  const shaMs = performance.now() - started;

  const mbps = (ms) => +(bytes / 1e6 / (ms / 1000)).toFixed(0);
  return {
    megabytes,
    diskWriteMBps: mbps(writeMs),
    diskReadMBps: mbps(readMs),
    sha256MBps: mbps(shaMs),
    forkExecMs: +medianSpawn(['/bin/true', []], spawns).toFixed(2),
    namespaceFloorMs: +namespaceFloor(work, rootfs, spawns).toFixed(2),
  };
}

function medianSpawn([file, args], count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(performance.now() - started);
    if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${r.stderr}`);
  }
  return median(times);
}

function namespaceFloor(work, rootfs, count) {
  return withFloorDirs(work, (dirs) => medianSpawn(namespaceFloorCommand(rootfs, dirs), count));
}

/** Wall ms of `steps` floor runs one after another: a RUN-only build without the builder. */
export function namespaceFloorSteps(work, rootfs, steps) {
  return withFloorDirs(work, (dirs) => {
    const [file, args] = namespaceFloorCommand(rootfs, dirs);
    const started = performance.now();
    for (let i = 0; i < steps; i++) {
      const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`the namespace floor failed: ${r.stderr}`);
    }
    return performance.now() - started;
  });
}

function withFloorDirs(work, fn) {
  const dirs = Object.fromEntries(['upper', 'work', 'mnt'].map((d) => [d, join(work, `floor-${d}`)]));
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  try {
    return fn(dirs);
  } finally {
    for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  }
}
