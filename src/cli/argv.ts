// The command line as yargs should see it. Two of its readings differ from docker's, and both
// are undone here, before parsing, up to a `--` (what follows it is a command's own):
// - a positional `-` (stdin) is re-parsed by yargs as `--name -` and arrives as "";
// - `--no-X VALUE` is read as "X is false" and a stray VALUE, where buildx has flags named
//   `no-…` that take a value (`--no-cache-filter STAGE`); `--no-X=VALUE` is read as meant.

/**
 * A bare `-`, as the handlers see it: a token no real argument can equal (argv strings hold
 * no NUL), so that it survives yargs.
 */
export const STDIN_ARG = '\0-';

/** Flags whose own name starts with `no-` (buildx spells them so). */
const NO_PREFIXED_FLAGS = new Set(['--no-cache-filter']);

export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [...out, ...argv.slice(i)];
    if (NO_PREFIXED_FLAGS.has(arg) && i + 1 < argv.length) out.push(`${arg}=${argv[++i]}`);
    else out.push(arg === '-' ? STDIN_ARG : arg);
  }
  return out;
}
