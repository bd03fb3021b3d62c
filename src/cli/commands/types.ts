import type { Argv } from 'yargs';
import type { CliContext, GlobalOptions } from '../context.js';

/**
 * One verb of the CLI. Handlers return the exit status and throw TsbuildErrors for expected
 * failures; main() prints them. One file per verb in this folder, listed in index.ts.
 */
export interface CommandSpec<A> {
  command: string;
  describe: string;
  /** [command line, what it does]: shown by --help. */
  examples: Array<[string, string]>;
  // yargs' builder types are too deep to thread through a plain list of commands.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  builder: (yargs: Argv<any>) => Argv<any>;
  handler: (args: A & GlobalOptions, ctx: CliContext) => Promise<number>;
}

/**
 * A verb as the registry (index.ts) lists it: its command line and description for --help,
 * and its module, imported only when that verb runs (each verb's module graph is most of the
 * CLI's start-up time). `command` and `describe` equal the loaded spec's.
 */
export interface CommandEntry {
  command: string;
  describe: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  load: () => Promise<CommandSpec<any>>;
}
