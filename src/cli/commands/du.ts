import { diskUsage, formatSize } from '../../index.js';
import type { CommandSpec } from './types.js';
import { formatTable, withStore } from './store.js';

interface DuArgs {
  format?: 'table' | 'json';
}

export const duCommand: CommandSpec<DuArgs> = {
  command: 'du',
  describe: 'Show disk usage: per image its size, the part shared with other images or the build cache and the part unique to it',
  examples: [
    ['tsbuild du', 'images, build cache and the total, shared layers counted once'],
    ['tsbuild du --format json', 'the same as JSON (bytes)'],
  ],
  builder: (y) => y.option('format', { choices: ['table', 'json'] as const, default: 'table' as const, describe: 'Output format' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const usage = await diskUsage(store);
      if (args.format === 'json') {
        ctx.stdout.write(JSON.stringify(usage, null, 2) + '\n');
        return 0;
      }
      const rows = [['IMAGE', 'DIGEST', 'SIZE', 'SHARED', 'UNIQUE']];
      for (const image of usage.images) {
        rows.push([image.references.join(', '), image.digest.slice(7, 19), formatSize(image.size), formatSize(image.shared), formatSize(image.unique)]);
      }
      ctx.stdout.write(formatTable(rows));
      ctx.stdout.write(
        [
          '',
          `Images:       ${formatSize(usage.imagesTotal)} (${usage.images.length} images, shared parts once)`,
          `Build cache:  ${formatSize(usage.cache.size)} (${usage.cache.records} records)`,
          `Cache mounts: ${formatSize(usage.cacheMounts.size)} (${usage.cacheMounts.count} dirs; tsbuild prune --all)`,
          `Step logs:    ${formatSize(usage.logs.size)} (${usage.logs.count} files)`,
          `Reclaimable:  ${formatSize(usage.reclaimable)} (tsbuild prune)`,
          `Total:        ${formatSize(usage.total)} (${usage.blobs.count} blobs ${formatSize(usage.blobs.size)}, ${usage.snapshots.count} snapshots ${formatSize(usage.snapshots.size)})`,
          '',
        ].join('\n'),
      );
      return 0;
    });
  },
};
