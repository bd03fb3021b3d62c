// The registry lists each verb's command line and description so that --help needs no verb
// module; they must stay what the verb's own module says.

import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { runCli } from '../helpers/run-cli.js';

describe('the command registry', () => {
  it.each(commands.map((entry) => [entry.command, entry] as const))('%s: registry and module agree', async (_name, entry) => {
    const spec = await entry.load();
    expect({ command: spec.command, describe: spec.describe }).toEqual({ command: entry.command, describe: entry.describe });
  });

  it('tsbuild --help lists every verb with its description', async () => {
    const run = await runCli(['--help']);
    expect(run.status).toBe(0);
    const help = run.stdout.replace(/\s+/g, ' ');
    for (const entry of commands) expect(help).toContain(`tsbuild ${entry.command} ${entry.describe}`);
  });

  it('tsbuild build --help shows the flags and examples of the verb module it loads', async () => {
    const spec = await commands.find((entry) => entry.command.startsWith('build '))!.load();
    const run = await runCli(['build', '--help']);
    expect(run.status).toBe(0);
    const help = run.stdout.replace(/\s+/g, ' ');
    // Long examples wrap within their column; their first words stay together.
    for (const [line] of spec.examples) expect(help).toContain(line.split(' ').slice(0, 3).join(' '));
    for (const flag of ['--file', '--tag', '--build-arg', '--no-cache', '--cache-from', '--progress']) expect(help).toContain(flag);
  });
});
