// Leases: what live processes use, so that prune keeps it. A lease is a file whose first line
// names its holder (pid + start time) and whose next lines are digests (blob digests or
// diffIDs), appended as the holder uses more. A lease whose holder died is stale and ignored,
// so a SIGKILLed build never blocks prune.
//
// Every Store instance keeps one implicit lease: whatever it writes, unpacks or finds is
// appended before use. With the prune barrier below this closes the race between a writer and
// a concurrent prune: the writer appends to its lease, then waits while a prune holds the GC
// lock; a prune takes that lock before it reads the leases. So either the prune sees the
// entry, or the writer waits for the prune to finish and then checks the object again.

import { randomBytes } from 'node:crypto';
import { appendFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '../lib/digest.js';
import { isProcessAlive, readLockHolder, currentProcess, type ProcessIdentity } from '../lib/lock.js';
import { ownerTag, type StoreLayout } from './layout.js';

export interface Lease {
  add(digest: Digest): void;
  release(): Promise<void>;
}

interface LeaseHeader extends ProcessIdentity {
  createdAt: string;
  purpose: string;
}

export interface LeaseInfo {
  file: string;
  header: LeaseHeader | undefined;
  digests: Digest[];
  live: boolean;
}

/** Creates a lease file (complete before it becomes visible) holding `digests`. */
export function createLease(layout: StoreLayout, purpose: string, digests: Digest[]): Lease & { file: string } {
  mkdirSync(layout.leasesDir, { recursive: true });
  const file = join(layout.leasesDir, `${ownerTag()}.${randomBytes(6).toString('hex')}.lease`);
  const header: LeaseHeader = { ...currentProcess(), createdAt: new Date().toISOString(), purpose };
  const staged = `${file}.new`;
  try {
    writeFileSync(staged, [JSON.stringify(header), ...digests].join('\n') + '\n', { flag: 'wx' });
    renameSync(staged, file);
  } catch (error) {
    rmSync(staged, { force: true });
    throw error;
  }
  let released = false;
  return {
    file,
    add(digest: Digest) {
      if (released) throw new Error('lease used after release');
      appendFileSync(file, `${digest}\n`);
    },
    async release() {
      released = true;
      await rm(file, { force: true });
    },
  };
}

export async function readLeases(layout: StoreLayout): Promise<LeaseInfo[]> {
  let names: string[];
  try {
    names = await readdir(layout.leasesDir);
  } catch {
    return [];
  }
  const out: LeaseInfo[] = [];
  for (const name of names.filter((n) => n.endsWith('.lease'))) {
    const file = join(layout.leasesDir, name);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // released meanwhile
    const [first = '', ...rest] = text.split('\n');
    const header = parseHeader(first);
    out.push({
      file,
      header,
      digests: rest.filter((line): line is Digest => isDigest(line)),
      live: header !== undefined && isProcessAlive(header),
    });
  }
  return out;
}

function parseHeader(line: string): LeaseHeader | undefined {
  try {
    const value = JSON.parse(line) as LeaseHeader;
    return typeof value.pid === 'number' && typeof value.start === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits for the prune that holds the GC lock now (if any, and not `ownNonce`'s) to finish.
 * Only that one: a prune that takes the lock later reads the leases after the caller's entry
 * was appended, so a busy prune loop cannot starve writers.
 */
export async function waitForPrune(layout: StoreLayout, ownNonce?: string): Promise<void> {
  const running = await readLockHolder(layout.lock('gc'));
  if (!running || running.nonce === ownNonce) return;
  let delay = 2;
  for (;;) {
    if (!isProcessAlive(running)) return;
    const holder = await readLockHolder(layout.lock('gc'));
    if (holder?.nonce !== running.nonce) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
}
