// `tsbuild store verify`, and what every store command shares: opening the store at --root
// (else $TSBUILD_ROOT or the default) and printing aligned tables.

import { ExitStatus } from '../../errors.js';
import { Store, defaultStoreRoot, formatSize, verifyStore } from '../../index.js';
import type { CliContext, GlobalOptions } from '../context.js';
import type { CommandSpec } from './types.js';

/** Runs `fn` with the store the global options name, and closes it (releasing its lease). */
export async function withStore<T>(args: GlobalOptions, ctx: CliContext, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(args.root ?? defaultStoreRoot(ctx.env));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Left-aligned columns, two spaces apart; the first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

interface StoreArgs {
  action: 'verify';
}

export const storeCommand: CommandSpec<StoreArgs> = {
  command: 'store <action>',
  describe: 'Maintain the store. verify: re-hash every blob, check every reference, snapshot and cache record; exit 3 on any problem',
  examples: [
    ['tsbuild store verify', 'check the default store'],
    ['tsbuild --root /srv/tsbuild store verify', 'check the store at /srv/tsbuild'],
  ],
  builder: (y) => y.positional('action', { choices: ['verify'] as const, describe: 'What to do' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const report = await verifyStore(store);
      for (const problem of report.problems) ctx.stdout.write(`problem: ${problem.object}: ${problem.message}\n`);
      const { blobs, bytes, tags, snapshots, cacheRecords } = report.checked;
      ctx.stdout.write(`checked ${blobs} blobs (${formatSize(bytes)}), ${tags} tags, ${snapshots} snapshots, ${cacheRecords} cache records\n`);
      if (report.leftovers.length > 0) {
        ctx.stderr.write(`note: ${report.leftovers.length} leftovers of interrupted processes (temp files, stale leases); tsbuild prune removes them\n`);
      }
      if (report.problems.length === 0) {
        ctx.stdout.write('store is clean\n');
        return ExitStatus.ok;
      }
      ctx.stdout.write(`${report.problems.length} problem(s) found\n`);
      ctx.stderr.write('hint: load or pull the damaged images again (that replaces bad blobs), then tsbuild prune\n');
      return ExitStatus.store;
    });
  },
};
