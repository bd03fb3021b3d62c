import { diffEnvironments, formatEnvironmentDiff, resolveEnvironment } from '../../index.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface DiffArgs {
  a: string;
  b: string;
  format: 'text' | 'json';
}

export const diffCommand: CommandSpec<DiffArgs> = {
  command: 'diff <a> <b>',
  describe: 'Show which layers and files differ between two images, archives or archived steps',
  examples: [
    ['tsbuild diff app:1.3 app:1.4', 'two images of the store'],
    ['tsbuild diff release-1.3.tar@5 release-1.4.tar@5', 'step 5 of two build archives'],
    ['tsbuild diff --format json a.tar b.tar', 'the same as data'],
  ],
  builder: (y) =>
    y
      .positional('a', { type: 'string', describe: 'An image, an archive, or ARCHIVE@STEP' })
      .positional('b', { type: 'string', describe: 'An image, an archive, or ARCHIVE@STEP' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const a = await resolveEnvironment(store, { target: args.a });
      const b = await resolveEnvironment(store, { target: args.b });
      const diff = await diffEnvironments(store, a, b);
      ctx.stdout.write(args.format === 'json' ? JSON.stringify(diff) + '\n' : formatEnvironmentDiff(diff));
      return diff.layers.length === 0 && diff.changes.length === 0 ? 0 : 1;
    });
  },
};
