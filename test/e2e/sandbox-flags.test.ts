// The flags that shape every RUN step's sandbox, as `docker buildx build` spells them:
// --add-host (lines in /etc/hosts), --shm-size (the /dev/shm tmpfs), --ulimit (resource
// limits). Each is part of the RUN steps' cache keys, and a build archive keeps them, so a
// replay makes the same layers.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { writeTree } from '../helpers/testdir.js';
import { openSession, stepOutcomes, type Session } from './session.js';

/** One RUN that writes what the flags shape into the image and prints it. */
const SHOW_SANDBOX = [
  'FROM busybox',
  "RUN grep -v localhost /etc/hosts > /hosts; grep ' /dev/shm ' /proc/mounts | cut -d' ' -f4 > /shm; " +
    'echo "nofile $(ulimit -n) $(ulimit -Hn) nproc $(ulimit -u)" > /limits; cat /hosts /shm /limits',
  '',
].join('\n');

const FLAGS = ['--add-host', 'db.internal:10.0.0.5', '--add-host', 'v6.internal=[fd00::5]', '--add-host', 'lo6:::1',
  '--shm-size', '128m', '--ulimit', 'nofile=2048:4096', '--ulimit', 'nproc=500'];

describe('tsbuild build --add-host, --shm-size, --ulimit', () => {
  let session: Session;
  let context: string;

  beforeAll(async () => {
    session = await openSession();
    context = join(session.dir, 'context');
    writeTree(context, { Dockerfile: SHOW_SANDBOX });
  });
  afterAll(() => session.close());

  /** Builds `context` with `flags`; what the RUN step printed, and which steps ran. */
  async function build(flags: string[]) {
    const built = await session.buildJson([...flags, context]);
    expect(built.status, built.stderr).toBe(0);
    const output = built.events.flatMap((e) => (e.type === 'step.log' ? [e.data] : [])).join('');
    return { output, ran: stepOutcomes(built.events).ran.length };
  }

  it('RUN sees the added hosts in /etc/hosts, the /dev/shm size and the limits', async () => {
    const { output } = await build(FLAGS);
    expect(output).toBe(['10.0.0.5\tdb.internal', 'fd00::5\tv6.internal', '::1\tlo6', 'rw,nosuid,nodev,noexec,relatime,size=131072k',
      'nofile 2048 4096 nproc 500', ''].join('\n'));
  });

  it('without the flags, RUN gets Docker\'s defaults: no extra hosts, a 64 MiB /dev/shm, 1024 open files', async () => {
    const { output } = await build(['--no-cache']);
    expect(output).toMatch(/^rw,nosuid,nodev,noexec,relatime,size=65536k\nnofile 1024 \d+ nproc /);
  });

  it('the flags are part of the RUN key: the same flags are cached, a changed one runs the step again', async () => {
    await build(FLAGS);
    expect((await build(FLAGS)).ran).toBe(0);
    const changed = (at: number, value: string) => FLAGS.map((flag, i) => (i === at ? value : flag));
    for (const [at, value] of [[1, 'db2.internal:10.0.0.5'], [7, '256m'], [9, 'nofile=2048:8192']] as const) {
      const again = await build(changed(at, value));
      expect(again.ran, `${FLAGS[at - 1]} ${value}`).toBe(1);
    }
    // As in BuildKit, a host's address is not in the key (it may differ between machines, as a
    // proxy's does): only its name is.
    expect((await build(changed(1, 'db.internal:10.9.9.9'))).ran).toBe(0);
  });

  it.each([
    [['--add-host', 'db.internal'], 'invalid --add-host "db.internal": expected NAME:IP or NAME=IP'],
    [['--add-host', 'db internal:10.0.0.5'], 'invalid --add-host "db internal:10.0.0.5": "db internal" is not a host name'],
    [['--add-host', 'db:10.0.0'], 'invalid --add-host "db:10.0.0": "10.0.0" is not an IP address'],
    [['--add-host', 'db:host-gateway'], '--add-host db: tsbuild has no host-gateway address'],
    [['--shm-size', '12x'], 'invalid --shm-size "12x"'],
    [['--ulimit', 'nofile'], 'invalid --ulimit "nofile": expected TYPE=SOFT[:HARD]'],
    [['--ulimit', 'files=10'], 'invalid --ulimit "files=10": "files" is not a limit type'],
    [['--ulimit', 'nofile=10:5'], 'invalid --ulimit "nofile=10:5": the soft limit is above the hard limit'],
    [['--ulimit', 'nofile=many'], 'invalid --ulimit "nofile=many": "many" is not a whole number or -1'],
  ])('%j is a usage error (exit 2) with a hint and no stack trace', async (flags, message) => {
    const result = await session.tsbuild(['build', ...flags, context]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toMatch(/^hint: /m);
    expect(result.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
  });

  it('a build archive keeps the flags: replay makes the same layers with them, a shell gets them', async () => {
    const archive = join(session.dir, 'sandbox-flags.tar');
    const built = await session.tsbuild(['build', '-q', '--no-cache', ...FLAGS, '--archive', archive, context]);
    expect(built.status, built.stderr).toBe(0);
    expect(readFileSync(archive).includes('"extraHosts":[{"ip":"10.0.0.5","name":"db.internal"}')).toBe(true);
    const replayed = await runCli(['replay', '--root', join(session.dir, 'replay-store'), '--progress', 'json', archive], { cwd: session.dir });
    expect(replayed.status, replayed.stderr).toBe(0);
    const report = JSON.parse(replayed.stdout.trim().split('\n').at(-1)!);
    expect(report).toMatchObject({ reproduced: 1, total: 1, image: { archived: built.stdout.trim(), rebuilt: built.stdout.trim() } });
    // A shell in the archive's environment gets them too.
    const shell = await session.tsbuild(['shell', archive, '--', 'sh', '-c', 'tail -n 1 /etc/hosts; ulimit -n']);
    expect(shell.stdout, shell.stderr).toBe('::1\tlo6\n2048\n');
  });
});
