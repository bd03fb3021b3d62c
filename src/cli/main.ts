// The CLI entry: the only place that reads argv, env and TTY state, and the one handler that
// turns errors into exit statuses.

import yargs from 'yargs';
import { ExitStatus, UsageError } from '../errors.js';
import { renderError } from '../ui/render-error.js';
import { commands } from './commands/index.js';
import type { CommandEntry } from './commands/types.js';
import type { CliContext, GlobalOptions } from './context.js';
import { normalizeArgv } from './argv.js';

export function processContext(signal: AbortSignal): CliContext {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    signal,
  };
}

/** Runs the CLI and resolves to the exit status. Never throws. */
export async function main(argv: string[], ctx?: CliContext): Promise<number> {
  const controller = new AbortController();
  const context = ctx ?? processContext(controller.signal);
  const onSignal = () => controller.abort(new Error('interrupted'));
  if (!ctx) {
    // `on`, not `once`: ink's signal-exit handler re-raises SIGINT when it finds itself the
    // only listener left, which would kill the process before the build has cancelled.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  let status: number = ExitStatus.ok;
  try {
    status = await runCommand(argv, context);
  } catch (error) {
    const color = context.stderrIsTTY && !context.env.NO_COLOR;
    const debug = argv.includes('--log-level=debug') || argv.join(' ').includes('--log-level debug');
    context.stderr.write(renderError(error, { color, debug }) + '\n');
    status = typeof (error as { exitCode?: unknown }).exitCode === 'number'
      ? (error as { exitCode: number }).exitCode
      : ExitStatus.internal;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return status;
}

async function runCommand(argv: string[], ctx: CliContext): Promise<number> {
  let status: number = ExitStatus.ok;
  let helpShown = false;
  const args = normalizeArgv(argv);
  const parser = yargs(args)
    .scriptName('tsbuild')
    .usage('tsbuild <command> [options]\n\nReproducible, daemonless container builds from Dockerfiles.')
    .option('root', {
      type: 'string',
      describe: 'Store directory (default: $TSBUILD_ROOT, /var/lib/tsbuild as root, else $XDG_DATA_HOME/tsbuild)',
    })
    .option('log-level', {
      choices: ['error', 'warn', 'info', 'debug'] as const,
      default: 'info' as const,
      describe: 'How much tsbuild says about itself; debug shows internals and stacks',
    })
    .env('TSBUILD')
    .strict()
    .demandCommand(1, 'Name a command: tsbuild --help lists them.')
    .recommendCommands()
    .completion('completion', 'Print a shell completion script (bash/zsh): tsbuild completion >> ~/.bashrc')
    .exitProcess(false)
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, error) => {
      if (error) throw error;
      throw new UsageError(message ?? 'invalid command line', { hint: 'Run tsbuild --help for usage.' });
    });
  skipHelpLayout(parser);

  for (const entry of commands) {
    // yargs runs the builder of the chosen verb only, so only its module is ever imported.
    let spec: Awaited<ReturnType<CommandEntry['load']>> | undefined;
    parser.command(
      entry.command,
      entry.describe,
      async (y) => {
        spec = await entry.load();
        let built = spec.builder(y);
        for (const [cmd, what] of spec.examples) built = built.example(cmd, what);
        return built;
      },
      async (args) => {
        status = await spec!.handler(args as unknown as GlobalOptions, ctx);
      },
    );
  }

  const output = await new Promise<string>((resolve, reject) => {
    parser
      .parseAsync(args, {}, (_err, _argv, text) => {
        if (text) {
          helpShown = true;
          resolve(text);
        }
      })
      .then(() => resolve(''), reject);
  });
  if (helpShown && output) ctx.stdout.write(output + '\n');
  return status;
}

/**
 * yargs lays out the whole help text before it runs a handler, in case the handler shows it
 * (ours never do; usage errors go through .fail): ~15 ms on every run. --help lays it out
 * anew. Through yargs' internals, so if they change this does nothing and the help is laid
 * out as before.
 */
function skipHelpLayout(parser: object): void {
  const internals = parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = internals.getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}
