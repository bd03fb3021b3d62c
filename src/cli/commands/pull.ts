import { pullImage, parsePlatform } from '../../index.js';
import type { CommandSpec } from './types.js';
import { progressFlag, registryFlags, registryOptions, withTransfer, type ProgressFlags, type RegistryFlags } from './registry-flags.js';

interface PullArgs extends RegistryFlags, ProgressFlags {
  reference: string;
  platform?: string;
}

export const pullCommand: CommandSpec<PullArgs> = {
  command: 'pull <reference>',
  describe: 'Download an image from a registry into the store',
  examples: [
    ['tsbuild pull busybox', 'pull docker.io/library/busybox:latest for this host\'s platform'],
    ['tsbuild pull --platform linux/arm64 localhost:5000/team/app:1', 'pull another platform of a multi-platform image'],
    ['tsbuild pull --ca-cert ca.pem registry.internal:5000/app@sha256:…', 'pull by digest from a registry with a private CA'],
  ],
  builder: (y) =>
    progressFlag(registryFlags(y))
      .positional('reference', { type: 'string', describe: 'NAME[:TAG][@DIGEST]' })
      .option('platform', { type: 'string', describe: 'os/arch[/variant] to choose from a multi-platform image (default: this host)' }),
  async handler(args, ctx) {
    const options = { ...registryOptions(args, ctx), ...(args.platform ? { platform: parsePlatform(args.platform) } : {}) };
    const pulled = await withTransfer(args, ctx, (store, onEvent) => pullImage(store, args.reference, { ...options, onEvent }));
    ctx.stderr.write(`Digest: ${pulled.manifest.digest}\n`);
    ctx.stdout.write(`${pulled.reference}\n`);
    return 0;
  },
};
