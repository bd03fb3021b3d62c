import { familiarReference, removeImage } from '../../index.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface RmiArgs {
  names: string[];
}

export const rmiCommand: CommandSpec<RmiArgs> = {
  command: 'rmi <names..>',
  describe: 'Remove image names; tsbuild prune then frees the content no name or cache uses',
  examples: [
    ['tsbuild rmi app:old', 'remove the tag app:old'],
    ['tsbuild rmi 70d76a119896 && tsbuild prune', 'remove every tag of an image, then free its space'],
  ],
  builder: (y) => y.positional('names', { type: 'string', array: true, describe: 'NAME[:TAG] or a digest (prefix)' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      for (const name of args.names) {
        for (const reference of await removeImage(store, name)) ctx.stdout.write(`Untagged: ${familiarReference(reference)}\n`);
      }
      return 0;
    });
  },
};
