import { pipeline } from 'node:stream/promises';
import { resolveEnvironment, stepLogs } from '../../index.js';
import { BuildError } from '../../errors.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface LogsArgs {
  target: string;
  step?: number;
}

export const logsCommand: CommandSpec<LogsArgs> = {
  command: 'logs <target>',
  describe: 'Print the whole log of every step (or one) of an image built here, or of a build archive',
  examples: [
    ['tsbuild logs hello', 'every step of the image hello, each under a #N header'],
    ['tsbuild logs release-1.4.tar --step 3', 'the unclipped output of step 3 of an archive'],
  ],
  builder: (y) =>
    y
      .positional('target', { type: 'string', describe: 'An image built in this store, or a build archive' })
      .option('step', { type: 'number', describe: 'Only this step (its number, as #N in progress output)' }),
  async handler(args, ctx) {
    return withStore(args, ctx, async (store) => {
      const logs = await stepLogs(store, await resolveEnvironment(store, { target: args.target }));
      const selected = args.step === undefined ? logs : logs.filter((log) => log.step.id === args.step);
      if (selected.length === 0) throw new BuildError('E_NO_SUCH_STEP', `${args.target} has no step ${args.step}`);
      for (const { step, open } of selected) {
        if (args.step === undefined) ctx.stdout.write(`#${step.id} [${step.stage} ${step.index}/${step.total}] ${step.instruction}\n`);
        if (open) await pipeline(open(), ctx.stdout, { end: false });
      }
      return 0;
    });
  },
};
