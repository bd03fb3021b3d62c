import { inspectImage } from '../../index.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface InspectArgs {
  name: string;
  format?: 'pretty' | 'json';
}

export const inspectCommand: CommandSpec<InspectArgs> = {
  command: 'inspect <name>',
  describe: "Print an image's manifest and config as JSON",
  examples: [
    ['tsbuild inspect busybox', 'manifest and config, indented'],
    ['tsbuild inspect app:1 --format json | jq .config.config.Env', 'one line of JSON, for tools'],
  ],
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'NAME[:TAG], NAME@sha256:…, or a digest (prefix)' })
      .option('format', { choices: ['pretty', 'json'] as const, default: 'pretty' as const, describe: 'pretty: indented JSON; json: one line' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const result = await inspectImage(store, args.name);
      ctx.stdout.write(JSON.stringify(result, null, args.format === 'json' ? undefined : 2) + '\n');
      return 0;
    });
  },
};
