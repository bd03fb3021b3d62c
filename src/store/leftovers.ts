// What killed processes leave behind: ingest files, temp dirs, stale leases, half-done atomic
// writes, lock files of dead holders. None is visible as an object (that is what atomic
// renames buy), so verify lists them as reclaimable, not as problems, and prune removes them.

import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isLockHeld, processStartTime, reapIfStale } from '../lib/lock.js';
import { ownerIsDead, type StoreLayout } from './layout.js';
import { readLeases } from './leases.js';

export interface Leftover {
  path: string;
  what: string;
}

/** Files of unknown owner (lock staging) count as left over after this long. */
const ORPHAN_AGE_MS = 60_000;

export async function findLeftovers(layout: StoreLayout): Promise<Leftover[]> {
  const out: Leftover[] = [];
  for (const name of await list(layout.ingestDir)) {
    if (ownerIsDead(name)) out.push({ path: join(layout.ingestDir, name), what: 'unfinished blob ingest' });
  }
  for (const name of await list(layout.tmpDir)) {
    if (ownerIsDead(name)) out.push({ path: join(layout.tmpDir, name), what: 'temp directory' });
  }
  for (const lease of await readLeases(layout)) {
    if (!lease.live) out.push({ path: lease.file, what: 'lease of a dead process' });
  }
  for (const name of await list(layout.leasesDir)) {
    if (name.endsWith('.new') && ownerIsDead(name)) out.push({ path: join(layout.leasesDir, name), what: 'unfinished lease' });
  }
  for (const name of await list(layout.locksDir)) {
    const path = join(layout.locksDir, name);
    if (name.endsWith('.lock')) {
      if (!(await isLockHeld(path))) out.push({ path, what: 'lock of a dead process' });
    } else if (await olderThan(path, ORPHAN_AGE_MS)) {
      out.push({ path, what: 'unfinished lock file' });
    }
  }
  const atomicDirs = [layout.root, layout.logsDir, layout.buildsDir, ...(await list(layout.cacheDir)).map((shard) => join(layout.cacheDir, shard))];
  for (const dir of atomicDirs) {
    for (const name of await list(dir)) {
      if (isDeadAtomicTemp(name)) out.push({ path: join(dir, name), what: 'unfinished atomic write' });
    }
  }
  return out;
}

export async function removeLeftovers(leftovers: Leftover[]): Promise<void> {
  for (const leftover of leftovers) {
    // Through the lock protocol: a plain unlink could remove a new holder's lock taken meanwhile.
    if (leftover.path.endsWith('.lock')) await reapIfStale(leftover.path);
    else await rm(leftover.path, { recursive: true, force: true });
  }
}

/** lib/atomic.ts names its temp files `.tmp-<target>-<pid>-<12 hex>`. */
function isDeadAtomicTemp(name: string): boolean {
  const match = /^\.tmp-.*-(\d+)-[0-9a-f]{12}$/.exec(name);
  return match !== null && processStartTime(Number(match[1])) === undefined;
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > ms;
}
