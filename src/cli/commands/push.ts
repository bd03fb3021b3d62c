import { pushImage } from '../../index.js';
import type { CommandSpec } from './types.js';
import { progressFlag, registryFlags, registryOptions, withTransfer, type ProgressFlags, type RegistryFlags } from './registry-flags.js';

interface PushArgs extends RegistryFlags, ProgressFlags {
  reference: string;
  target?: string;
}

export const pushCommand: CommandSpec<PushArgs> = {
  command: 'push <reference> [target]',
  describe: 'Upload an image from the store to the registry its name (or TARGET) points at',
  examples: [
    ['tsbuild tag app:1 localhost:5000/team/app:1 && tsbuild push localhost:5000/team/app:1', 'name the image for a registry, then push it'],
    ['tsbuild push --ca-cert ca.pem registry.internal:5000/team/app:1', 'push to a registry with a private CA'],
    ['tsbuild push localhost:5000/team/app:1 localhost:5000/release/app:1', 'copy within a registry: blobs are mounted, not uploaded'],
  ],
  builder: (y) =>
    progressFlag(registryFlags(y))
      .positional('reference', { type: 'string', describe: 'NAME[:TAG] of an image in the store' })
      .positional('target', { type: 'string', describe: 'NAME[:TAG] to push it as (default: REFERENCE)' }),
  async handler(args, ctx) {
    const options = registryOptions(args, ctx);
    const pushed = await withTransfer(args, ctx, (store, onEvent) => pushImage(store, args.reference, args.target ?? args.reference, { ...options, onEvent }));
    ctx.stderr.write(`Pushed ${pushed.reference}\n`);
    ctx.stdout.write(`${pushed.descriptor.digest}\n`);
    return 0;
  },
};
