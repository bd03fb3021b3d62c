import type { CommandSpec } from './types.js';
import { readPackageVersion } from '../../lib/package-version.js';

export const versionCommand: CommandSpec<Record<string, never>> = {
  command: 'version',
  describe: 'Print the tsbuild version',
  examples: [['tsbuild version', 'print the version']],
  builder: (y) => y,
  async handler(_args, ctx) {
    ctx.stdout.write(`tsbuild ${readPackageVersion()}\n`);
    return 0;
  },
};
