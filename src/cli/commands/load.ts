import { resolve } from 'node:path';
import { describeLoaded, loadImage } from '../../index.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface LoadArgs {
  file: string;
  tag?: string;
}

export const loadCommand: CommandSpec<LoadArgs> = {
  command: 'load <file>',
  describe: 'Import an OCI image layout (tar or directory) or a docker save archive',
  examples: [
    ['tsbuild load busybox.tar', 'load, keeping the names the archive gives'],
    ['tsbuild load ./oci-dir -t base:1', 'load an OCI layout directory as base:1'],
    ['docker save alpine | gzip > a.tgz && tsbuild load a.tgz', 'gzipped archives load too'],
  ],
  builder: (y) =>
    y
      .positional('file', { type: 'string', describe: 'OCI layout tar/directory or docker save tar (optionally gzipped)' })
      .option('tag', { alias: 't', type: 'string', describe: 'Name the loaded image NAME[:TAG] (archives holding one image)' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const images = await loadImage(store, resolve(ctx.cwd, args.file), args.tag === undefined ? {} : { tag: args.tag });
      for (const image of images) ctx.stdout.write(describeLoaded(image) + '\n');
      return 0;
    });
  },
};
