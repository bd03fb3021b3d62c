import { resolveEnvironment, runShell } from '../../index.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface ShellArgs {
  target: string;
  step?: number;
  stage?: string;
  command?: string[];
  '--'?: string[];
}

export const shellCommand: CommandSpec<ShellArgs> = {
  command: 'shell <target> [command..]',
  describe: "Open a shell (or run a command) in an image's or an archived step's environment, throwaway",
  examples: [
    ['tsbuild shell release-1.4.tar --step 3', 'a shell in the environment as it was after step 3'],
    ['tsbuild shell release-1.4.tar --stage build -- gcc --version', 'a command in the last step of stage build'],
    ['tsbuild shell hello -- cat /etc/os-release', 'a command in an image of the store'],
  ],
  builder: (y) =>
    y
      .parserConfiguration({ 'populate--': true })
      .positional('target', { type: 'string', describe: 'An image in the store, a build archive, or ARCHIVE@STEP' })
      .positional('command', { type: 'string', array: true, describe: 'The command (after --); the image\'s /bin/sh when absent' })
      .option('step', { type: 'number', describe: 'Step number of an archive (as #N in progress output)' })
      .option('stage', { type: 'string', describe: 'The last step of this stage of an archive' }),
  async handler(args, ctx) {
    const command = [...(args.command ?? []), ...(args['--'] ?? [])].map(String);
    return withStore(args, ctx, async (store) => {
      const environment = await resolveEnvironment(store, { target: args.target, step: args.step, stage: args.stage });
      const tty = ctx.stdoutIsTTY && ctx.stdinIsTTY;
      const result = await runShell(store, environment, {
        command, tty, signal: ctx.signal,
        onStdout: (chunk) => ctx.stdout.write(chunk),
        onStderr: (chunk) => ctx.stderr.write(chunk),
      });
      return result.exitCode;
    });
  },
};
