// What builds keep in the store beside its objects (layout.ts): step logs by cache key, build
// records by image manifest, cache mount dirs and the contexts' remembered file digests. None
// is reachable from a tag, so prune judges them by what they describe: a log goes with its
// cache record, a build record with its manifest, a context cache with its context dir (the
// `contextDir` its file names: a CI checkout dir is often gone after the job); cache mounts go
// only with `prune --all` while no other process uses the store, and with it every context cache.

import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '../lib/digest.js';
import type { StoreLayout } from './layout.js';
import { treeSize } from './snapshots.js';

export interface SideRecord {
  path: string;
  kind: 'step log' | 'build record' | 'cache mount' | 'context cache';
  size: number;
}

export interface SideRecordJudge {
  hasCacheRecord(key: string): Promise<boolean>;
  hasBlob(digest: Digest): Promise<boolean>;
  /** Whether cache mount dirs go too (`prune --all` with nobody else using the store). */
  cacheMounts: boolean;
  /**
   * Which contexts' remembered file digests go: those whose dir is gone, or all (`prune --all`;
   * they only save re-reading).
   */
  contextCaches: 'orphaned' | 'all';
}

/** The step logs, build records and (when asked) cache mounts that nothing describes any more. */
export async function orphanedSideRecords(layout: StoreLayout, judge: SideRecordJudge): Promise<SideRecord[]> {
  const out: SideRecord[] = [];
  for (const name of await list(layout.logsDir)) {
    const key = keyOf(name, '.log');
    if (key !== undefined && !(await judge.hasCacheRecord(key))) out.push(await fileRecord(join(layout.logsDir, name), 'step log'));
  }
  for (const name of await list(layout.buildsDir)) {
    const manifest = keyOf(name, '.json');
    if (manifest !== undefined && !(await judge.hasBlob(manifest))) out.push(await fileRecord(join(layout.buildsDir, name), 'build record'));
  }
  for (const name of await list(layout.contextCachesDir)) {
    const path = join(layout.contextCachesDir, name);
    if (judge.contextCaches === 'all' || (await contextIsGone(path))) out.push(await fileRecord(path, 'context cache'));
  }
  if (judge.cacheMounts) {
    for (const name of await list(layout.cacheMountsDir)) {
      const path = join(layout.cacheMountsDir, name);
      out.push({ path, kind: 'cache mount', size: (await treeSize(path)).size });
    }
  }
  return out;
}

/** Count and bytes of the step logs and build records, and of the cache mounts. */
export async function sideRecordUsage(layout: StoreLayout): Promise<{ logs: Usage; cacheMounts: Usage }> {
  const logs: Usage = { count: 0, size: 0 };
  for (const dir of [layout.logsDir, layout.buildsDir]) {
    for (const name of await list(dir)) {
      logs.count++;
      logs.size += (await fileRecord(join(dir, name), 'step log')).size;
    }
  }
  const cacheMounts: Usage = { count: 0, size: 0 };
  for (const name of await list(layout.cacheMountsDir)) {
    cacheMounts.count++;
    cacheMounts.size += (await treeSize(join(layout.cacheMountsDir, name))).size;
  }
  return { logs, cacheMounts };
}

interface Usage {
  count: number;
  size: number;
}

export async function removeSideRecords(records: SideRecord[]): Promise<void> {
  for (const record of records) await rm(record.path, { recursive: true, force: true });
}

/** `<64 hex><suffix>` → `sha256:<hex>`; undefined for any other name (temp files are leftovers). */
function keyOf(name: string, suffix: string): Digest | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const digest = `sha256:${name.slice(0, -suffix.length)}`;
  return isDigest(digest) ? digest : undefined;
}

/** Whether the context dir a context cache names is gone (a cache that names none is kept). */
async function contextIsGone(path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  let contextDir: unknown;
  try {
    contextDir = text === undefined ? undefined : (JSON.parse(text) as { contextDir?: unknown }).contextDir;
  } catch {
    return false; // a damaged cache costs only re-reading; --all removes it
  }
  return typeof contextDir === 'string' && !existsSync(contextDir);
}

async function fileRecord(path: string, kind: SideRecord['kind']): Promise<SideRecord> {
  return { path, kind, size: (await stat(path).catch(() => undefined))?.size ?? 0 };
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
