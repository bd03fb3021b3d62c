import { dockerConfigDir, logout, normalizeRegistryName } from '../../index.js';
import type { CommandSpec } from './types.js';

interface LogoutArgs {
  registry?: string;
}

export const logoutCommand: CommandSpec<LogoutArgs> = {
  command: 'logout [registry]',
  describe: 'Remove the stored credentials for a registry',
  examples: [['tsbuild logout ghcr.io', 'forget the credentials for ghcr.io']],
  builder: (y) => y.positional('registry', { type: 'string', describe: 'HOST[:PORT] (default: Docker Hub)' }),
  async handler(args, ctx) {
    const registry = normalizeRegistryName(args.registry);
    const removed = await logout(registry, dockerConfigDir(ctx.env));
    ctx.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    return 0;
  },
};
