import { listImages, formatSize, parseReference } from '../../index.js';
import type { CommandSpec } from './types.js';
import { formatTable, withStore } from './store.js';

interface ImagesArgs {
  format?: 'table' | 'json';
}

export const imagesCommand: CommandSpec<ImagesArgs> = {
  command: 'images',
  describe: 'List the tagged images in the store',
  examples: [
    ['tsbuild images', 'list images as a table'],
    ['tsbuild images --format json', 'list images as a JSON array'],
  ],
  builder: (y) => y.option('format', { choices: ['table', 'json'] as const, default: 'table' as const, describe: 'Output format' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const images = await listImages(store);
      if (args.format === 'json') {
        ctx.stdout.write(JSON.stringify(images, null, 2) + '\n');
        return 0;
      }
      const rows = [['REPOSITORY', 'TAG', 'DIGEST', 'CREATED', 'PLATFORM', 'SIZE']];
      for (const image of images) {
        const tag = parseReference(image.name).tag ?? '';
        rows.push([image.name.slice(0, image.name.length - tag.length - 1), tag, image.digest.slice(7, 19), image.created ?? '', image.platform, formatSize(image.size)]);
      }
      ctx.stdout.write(formatTable(rows));
      return 0;
    });
  },
};
