import { formatReplayReport, replayArchive } from '../../index.js';
import { ExitStatus } from '../../errors.js';
import { chooseProgressMode, createRenderer, type RequestedProgressMode } from '../../ui/index.js';
import { parseSecrets, parseSshSources } from '../flag-values.js';
import type { CommandSpec } from './types.js';
import { withStore } from './store.js';

interface ReplayArgs {
  archive: string;
  progress: RequestedProgressMode;
  secret: string[];
  ssh: string[];
}

export const replayCommand: CommandSpec<ReplayArgs> = {
  command: 'replay <archive>',
  describe: 'Rebuild an archived build offline from the archive alone and compare every step',
  examples: [
    ['tsbuild replay release-1.4.tar', 'prints "reproduced N/N steps", or the first divergent step and its file diff'],
    ['tsbuild replay --root /tmp/empty-store release-1.4.tar', 'replay into an empty store'],
    ['tsbuild replay --progress json release-1.4.tar', 'build events, then a replay.done event with the report'],
    ['tsbuild replay --secret id=npmrc,src=$HOME/.npmrc release-1.4.tar', 'give again the secrets the build used'],
    ['tsbuild replay --ssh default release-1.4.tar', 'give again an ssh agent the build used'],
  ],
  builder: (y) =>
    y
      .positional('archive', { type: 'string', describe: 'A build archive (tsbuild build --archive FILE)' })
      .option('progress', { choices: ['auto', 'tty', 'plain', 'json', 'quiet'] as const, default: 'auto' as const, describe: 'Progress output on stderr' })
      .option('secret', { type: 'string', array: true, nargs: 1, default: [], describe: 'Secrets the build used (never archived): id=ID,src=FILE or id=ID,env=VAR' })
      .option('ssh', { type: 'string', array: true, nargs: 1, default: [], describe: 'SSH agents the build used (never archived): default, ID=SOCKET or ID=KEYFILE[,KEYFILE…]' }),
  async handler(args, ctx) {
    const mode = chooseProgressMode(args.progress, ctx.stderrIsTTY);
    const renderer = createRenderer(mode, { out: ctx.stderr, color: ctx.stderrIsTTY && !ctx.env.NO_COLOR });
    const report = await withStore(args, ctx, async (store) => {
      try {
        return await replayArchive(store, args.archive, { sink: renderer.sink, signal: ctx.signal, secrets: parseSecrets(args.secret, ctx), ssh: parseSshSources(args.ssh, ctx) });
      } finally {
        await renderer.finish();
      }
    });
    if (mode === 'json') ctx.stdout.write(JSON.stringify({ type: 'replay.done', ...report }) + '\n');
    else ctx.stdout.write(formatReplayReport(report));
    return report.reproduced === report.total ? ExitStatus.ok : ExitStatus.replayDiverged;
  },
};
