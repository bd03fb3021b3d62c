import { UsageError } from '../../errors.js';
import { formatSize, parseDuration, parseSize, prune, type PruneOptions } from '../../index.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface PruneArgs {
  all?: boolean;
  keepStorage?: string;
  filter?: string[];
}

export const pruneCommand: CommandSpec<PruneArgs> = {
  command: 'prune',
  describe: 'Free space: remove what no tag, cache record or running build uses, and old cache records',
  examples: [
    ['tsbuild prune', 'remove untagged images, unused snapshots and leftovers of killed processes'],
    ['tsbuild prune --filter until=24h', 'also drop cache records unused for a day'],
    ['tsbuild prune --keep-storage 10GB', 'drop least recently used cache records until the store fits in 10 GB'],
    ['tsbuild prune --all', 'drop the whole build cache and the cache mounts (tagged images stay)'],
  ],
  builder: (y) =>
    y
      .option('all', { type: 'boolean', default: false, describe: 'Remove every cache record and cache mount too' })
      .option('keep-storage', { type: 'string', describe: 'Evict least recently used cache until the store is at most SIZE (500MB, 10GB)' })
      .option('filter', { type: 'string', array: true, describe: 'until=DURATION: remove cache records unused for longer (24h, 90m, 7d)' }),
  async handler(args, ctx) {
    const options: PruneOptions = { all: args.all ?? false };
    if (args.keepStorage !== undefined) options.keepStorage = parseSize(args.keepStorage);
    for (const filter of args.filter ?? []) {
      const [key, value] = filter.split('=', 2);
      if (key !== 'until' || !value) throw new UsageError(`unknown prune filter ${JSON.stringify(filter)}`, { hint: 'The one filter is until=DURATION, e.g. --filter until=24h.' });
      options.until = parseDuration(value);
    }
    return withStore(args, ctx, async (store) => {
      const report = await prune(store, options);
      ctx.stdout.write(
        `Removed ${report.removedBlobs} blobs, ${report.removedSnapshots} snapshots, ${report.removedCacheRecords} cache records, ` +
          `${report.removedLogs} step logs, ${report.removedCacheMounts} cache mounts, ${report.removedContextCaches} context caches, ` +
          `${report.removedLeftovers} leftovers\n` +
          `Reclaimed ${formatSize(report.reclaimedBytes)}\n`,
      );
      if (report.keptCacheMounts) {
        ctx.stderr.write('note: cache mounts were kept: another tsbuild process has the store open (run prune --all again once it is done)\n');
      }
      return 0;
    });
  },
};
