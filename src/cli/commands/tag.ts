import { familiarReference, tagImage } from '../../index.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface TagArgs {
  source: string;
  target: string;
}

export const tagCommand: CommandSpec<TagArgs> = {
  command: 'tag <source> <target>',
  describe: 'Give an image another name',
  examples: [
    ['tsbuild tag busybox localhost:5000/base/busybox:1', 'name busybox:latest for a local registry'],
    ['tsbuild tag 70d76a119896 app:debug', 'name an image by its digest prefix'],
  ],
  builder: (y) =>
    y
      .positional('source', { type: 'string', describe: 'Image: NAME[:TAG], NAME@sha256:…, or a digest (prefix)' })
      .positional('target', { type: 'string', describe: 'New name: NAME[:TAG]' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const descriptor = await tagImage(store, args.source, args.target);
      ctx.stderr.write(`Tagged ${familiarReference(args.target)} → ${descriptor.digest}\n`);
      return 0;
    });
  },
};
