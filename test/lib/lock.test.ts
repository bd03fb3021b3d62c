import { spawn } from 'node:child_process';
import { readFile, writeFile, mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledSrc } from '../helpers/compiled-src.js';
import { acquireLock, isLockHeld, isProcessAlive, processStartTime, readLockHolder, withLock } from '../../src/lib/lock.js';

const dirs: string[] = [];
async function lockPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-lock-'));
  dirs.push(dir);
  return join(dir, 'locks', 'x.lock');
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A child process that takes the lock, prints "held", and sleeps until killed. */
function holdInChild(path: string) {
  const url = join(compiledSrc(), 'lib/lock.js');
  const script = `import { acquireLock } from ${JSON.stringify(url)}; await acquireLock(${JSON.stringify(path)}, { purpose: 'child' }); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const held = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  return { child, held };
}

describe('file locks', () => {
  it('names its holder and is removed on release', async () => {
    const path = await lockPath();
    const lock = await acquireLock(path, { purpose: 'testing' });
    const holder = await readLockHolder(path);
    expect(holder).toMatchObject({ pid: process.pid, purpose: 'testing', nonce: lock.holder.nonce });
    expect(await isLockHeld(path)).toBe(true);
    await lock.release();
    expect(await readLockHolder(path)).toBeUndefined();
    expect(await readdir(join(path, '..'))).toEqual([]);
  });

  it('serialises holders in one process', async () => {
    const path = await lockPath();
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        withLock(path, async () => {
          order.push(`${name}+`);
          await new Promise((r) => setTimeout(r, 10));
          order.push(`${name}-`);
        }),
      ),
    );
    // Each critical section ends before the next begins.
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
  });

  it('times out with StoreError(locked) naming the live holder', async () => {
    const path = await lockPath();
    const lock = await acquireLock(path, { purpose: 'long job' });
    const error = await acquireLock(path, { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'locked' });
    expect((error as Error).message).toContain(`pid ${process.pid} (long job)`);
    await lock.release();
  });

  it('tells onWait once who it waits for, and not at all when the lock is free', async () => {
    const path = await lockPath();
    const free: unknown[] = [];
    await (await acquireLock(path, { onWait: (holder) => free.push(holder) })).release();
    expect(free).toEqual([]);
    const lock = await acquireLock(path, { purpose: 'first' });
    const waits: unknown[] = [];
    const second = acquireLock(path, { onWait: (holder) => waits.push(holder) });
    await new Promise((r) => setTimeout(r, 120));
    await lock.release();
    await (await second).release();
    expect(waits).toEqual([expect.objectContaining({ pid: process.pid, purpose: 'first' })]);
  });

  it('a waiter stops waiting when its signal aborts (Ctrl-C while another build runs the step)', async () => {
    const path = await lockPath();
    const lock = await acquireLock(path, { purpose: 'long step' });
    const controller = new AbortController();
    const waiting = acquireLock(path, { timeoutMs: Infinity, signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    // Without the signal it would wait for as long as the holder lives (no timeout).
    controller.abort(new Error('interrupted'));
    expect(await waiting).toMatchObject({ message: 'interrupted' });
    expect(await readLockHolder(path)).toMatchObject({ nonce: lock.holder.nonce });
    await lock.release();
  });

  it('reaps a lock whose holder was SIGKILLed', async () => {
    const path = await lockPath();
    const { child, held } = holdInChild(path);
    await held;
    expect((await readLockHolder(path))?.pid).toBe(child.pid);
    await expect(acquireLock(path, { timeoutMs: 50 })).rejects.toMatchObject({ kind: 'locked' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await acquireLock(path, { timeoutMs: 2000 });
    expect((await readLockHolder(path))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('does not mistake a recycled pid for the holder (start time differs)', async () => {
    const path = await lockPath();
    const stale = { pid: process.pid, start: '1', nonce: 'old', acquiredAt: new Date(0).toISOString(), purpose: 'gone' };
    expect(isProcessAlive(stale)).toBe(false);
    expect(isProcessAlive({ pid: process.pid, start: processStartTime(process.pid)! })).toBe(true);
    await acquireLock(path, { timeoutMs: 0 }).then((l) => l.release());
    await writeFile(path, JSON.stringify(stale));
    const lock = await acquireLock(path, { timeoutMs: 100 });
    expect(JSON.parse(await readFile(path, 'utf8')).nonce).toBe(lock.holder.nonce);
    await lock.release();
  });

  it('reaps a lock file that is not a lock (garbage)', async () => {
    const path = await lockPath();
    await acquireLock(path, { timeoutMs: 0 }).then((l) => l.release());
    await writeFile(path, 'not json');
    const lock = await acquireLock(path, { timeoutMs: 100 });
    await lock.release();
  });

  it('excludes across processes; waiters reap a SIGKILLed holder together and lose no update', async () => {
    const path = await lockPath();
    const counter = join(path, '..', '..', 'counter');
    await writeFile(counter, '0');
    const { child: holder, held } = holdInChild(path);
    await held;
    const url = join(compiledSrc(), 'lib/lock.js');
    const script = `import { withLock } from ${JSON.stringify(url)}; import { readFile, writeFile } from 'node:fs/promises';
      for (let i = 0; i < 40; i++) await withLock(${JSON.stringify(path)}, async () => {
        const n = Number(await readFile(${JSON.stringify(counter)}, 'utf8'));
        await new Promise((r) => setImmediate(r));
        await writeFile(${JSON.stringify(counter)}, String(n + 1));
      });`;
    const runs = Array.from({ length: 4 }, () =>
      new Promise<number | null>((resolve) => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' }).on('exit', resolve)),
    );
    await new Promise((r) => setTimeout(r, 300)); // all four are waiting on the live holder
    expect(await readFile(counter, 'utf8')).toBe('0');
    holder.kill('SIGKILL');
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0]);
    expect(await readFile(counter, 'utf8')).toBe('160');
    expect(await readdir(join(path, '..'))).toEqual([]);
  });
});
