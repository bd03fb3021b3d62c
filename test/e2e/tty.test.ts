// The real CLI in a real terminal: `tsbuild build` of a recipe with two stages that run in
// parallel, inside tmux (100×24), progress left on `auto`. Checks what the screen shows while
// both stages run and what stays on it at the end; then Ctrl-C in the middle of a build; then
// the same build with `--progress plain` and `--progress json`, line by line.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { PROMPT, TmuxSession, tmuxAvailable } from '../helpers/tmux.js';

const COLUMNS = 100;
const ROWS = 24;
const BIN = join(REPO_ROOT, 'bin/tsbuild.js');
const SANDBOX = join(REPO_ROOT, 'native/build/tsbuild-sandbox');
const count = (text: string, needle: string) => text.split(needle).length - 1;

// Each stage prints a line every 0.2 s for 4 s, so both are on screen together for a while.
const DOCKERFILE = `FROM busybox AS left
RUN for i in $(seq 1 20); do echo "left line $i"; sleep 0.2; done | tee /left.txt

FROM busybox AS right
RUN for i in $(seq 1 20); do echo "right line $i"; sleep 0.2; done | tee /right.txt

FROM busybox
COPY --from=left /left.txt /left.txt
COPY --from=right /right.txt /right.txt
RUN wc -l /left.txt /right.txt
`;

const hasTmux = tmuxAvailable();
if (!hasTmux) console.warn('e2e/tty.test: SKIPPED: tmux is not installed (scripts/setup.sh installs it)');

describe.skipIf(!hasTmux)('tsbuild build in a terminal', () => {
  let dir: string;
  let store: string;
  let context: string;
  let session: TmuxSession;

  beforeAll(async () => {
    // The CLI runs from dist/ (bin/tsbuild.js), which `npm run build` (scripts/setup.sh) makes.
    // Not rebuilt here: other suites run the same dist/ at the same time.
    if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run npm run build');
    if (!existsSync(SANDBOX)) execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'native')], { stdio: 'pipe' });
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-tty-'));
    store = join(dir, 'store');
    context = join(dir, 'context');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), DOCKERFILE);
    execFileSync(process.execPath, [BIN, '--root', store, 'load', '-t', 'busybox:latest', await busyboxImageLayout()], { stdio: 'pipe' });
    session = new TmuxSession(`tty-e2e-${process.pid}`, COLUMNS, ROWS, context);
  }, 120_000);

  afterAll(() => {
    session?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let runs = 0;
  /**
   * Runs tsbuild in the pane; CI=true checks that ink's CI detection does not turn the view off.
   * Returns what the pane shows once this run has ended: numbered, because on a loaded machine
   * the previous run's end can still be on screen before `clear` has run.
   */
  const tsbuild = (args: string): RegExp => {
    runs++;
    session.run(`clear; tmux clear-history 2>/dev/null; NO_COLOR=1 CI=true node ${BIN} --root ${store} ${args}; echo "EXIT $? (run ${runs})"`);
    return new RegExp(`EXIT \\d+ \\(run ${runs}\\)`);
  };

  it('shows both stages live side by side, then each step once and the summary', async () => {
    const built = tsbuild('build -t e2e/two:latest .');

    // While both stages run: one header, the two steps on one line, their output under them
    const mid = await session.waitFor((s) => /left line \d+/.test(s) && /right line \d+/.test(s) && s.includes('2 running'), 60_000);
    expect(count(mid, '[+] Building')).toBe(1);
    const lines = mid.split('\n');
    expect(lines.some((l) => /^. \[left 1\/1\] RUN for i in .* \d+\.\ds . \[right 1\/1\] RUN for i in .* \d+\.\ds$/.test(l))).toBe(true);
    expect(lines.some((l) => /^ {3}left line \d+ +right line \d+$/.test(l))).toBe(true);
    expect(mid).toMatch(/· \[stage-2 1\/3\] COPY --from=left \/left\.txt \/left\.txt +waiting/);
    expect(mid).toMatch(/· \[stage-2 3\/3\] RUN wc -l \/left\.txt \/right\.txt +waiting/);

    // At the end: the finished steps once each, the summary, nothing live left behind
    await session.waitFor((s) => built.test(s), 60_000);
    const all = session.capture({ history: true });
    expect(all).toContain('EXIT 0');
    expect(count(all, '[+] Building')).toBe(1);
    expect(all).toMatch(/\[\+\] Building \d+\.\ds \(5\/5\) FINISHED/);
    for (const title of ['[left 1/1] RUN for i in', '[right 1/1] RUN for i in', '[stage-2 1/3] COPY --from=left', '[stage-2 2/3] COPY --from=right', '[stage-2 3/3] RUN wc -l']) {
      expect(count(all, `=> ${title}`), title).toBe(1);
    }
    expect(all).toMatch(/✔ Built in \d+\.\ds: 5 steps, 5 run, 0 cached/);
    expect(all).toMatch(/image sha256:[0-9a-f]{64} \(e2e\/two:latest\)/);
    expect(all).toMatch(/layers \d+, [\d.]+[kM]?B/);
    expect(all).not.toMatch(/waiting|running|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    for (const line of all.split('\n')) expect([...line].length).toBeLessThanOrEqual(COLUMNS);

    // The same build again: every step cached
    const rebuilt = tsbuild('build -t e2e/two:latest .');
    await session.waitFor((s) => rebuilt.test(s), 60_000);
    const cached = session.capture({ history: true });
    expect(count(cached, '=> CACHED ')).toBe(5);
    expect(cached).toMatch(/✔ Built in \d+\.\ds: 5 steps, 0 run, 5 cached/);
  });

  // main() listens with process.on('SIGINT'): with `once`, ink's signal-exit handler found
  // itself alone and re-raised SIGINT, killing the process before the build could cancel.
  it('Ctrl-C mid-build cancels the build, says so, and exits 130', async () => {
    const cancelled = tsbuild('build --no-cache -t e2e/two:latest .');
    await session.waitFor((s) => /left line \d+/.test(s) && /right line \d+/.test(s) && s.includes('2 running'), 60_000);
    session.keys('C-c');
    // A process killed by SIGINT ends the command line before `echo EXIT`: wait for the prompt.
    const end = await session.waitFor((s) => cancelled.test(s) || s.split('\n').some((l) => l.trim() === PROMPT), 30_000);
    expect(end).toContain('EXIT 130');
    expect(end).toMatch(/\[\+\] Building \d+\.\ds \(\d\/5\) CANCELLED/);
    expect(end).toMatch(/=> CANCELLED \[left 1\/1\]/);
    expect(end).toMatch(/=> CANCELLED \[right 1\/1\]/);
    expect(end).toMatch(/✗ cancelled after \d+\.\ds/);
  });

  /** The build outside any terminal: stderr is a pipe, so `auto` means plain. */
  const buildPiped = (progress: string) => {
    const run = spawnSync(process.execPath, [BIN, '--root', store, 'build', '--no-cache', '--progress', progress, '-t', 'e2e/two:latest', '.'], {
      cwd: context,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    return run.stderr;
  };

  it('plain: every line is a step line, an output line, or the summary', () => {
    const lines = buildPiped('auto').trimEnd().split('\n');
    const titles = new Map<string, string>();
    for (const line of lines.slice(0, -2)) {
      const title = /^#(\d+) (\[\S+ \d+\/\d+\] .*)$/.exec(line);
      if (title && !/^#\d+ \d+\.\d{3} /.test(line)) {
        expect(titles.has(title[1]!), `#${title[1]} named twice`).toBe(false);
        titles.set(title[1]!, title[2]!);
        continue;
      }
      const [, id] = /^#(\d+) (?:\d+\.\d{3} .*|DONE \d+\.\ds)$/.exec(line) ?? [];
      expect(id, `unexpected line: ${line}`).toBeDefined();
      expect(titles.has(id!), `#${id} used before its title`).toBe(true);
    }
    expect([...titles.values()].map((t) => t.replace(/ RUN .*| COPY .*/, ''))).toEqual(
      expect.arrayContaining(['[left 1/1]', '[right 1/1]', '[stage-2 1/3]', '[stage-2 2/3]', '[stage-2 3/3]']),
    );
    expect(lines.filter((l) => /^#\d+ \d+\.\d{3} left line \d+$/.test(l))).toHaveLength(20);
    expect(lines.filter((l) => /^#\d+ \d+\.\d{3} right line \d+$/.test(l))).toHaveLength(20);
    expect(lines.at(-2)).toMatch(/^DONE \d+\.\ds: 5 run, 0 cached$/);
    expect(lines.at(-1)).toMatch(/^image sha256:[0-9a-f]{64} e2e\/two:latest$/);
  });

  it('json: only events, one per line, in a valid order, with every output line', () => {
    const events = buildPiped('json').trimEnd().split('\n').map((line) => JSON.parse(line) as BuildEvent);
    expect(events[0]!.type).toBe('build.start');
    expect(events.at(-1)!.type).toBe('build.done');
    const started = new Set<number>();
    const ended = new Set<number>();
    const output = new Map<number, string>();
    for (const event of events.slice(1, -1)) {
      expect(typeof event.time).toBe('number');
      if (event.type === 'step.start') started.add(event.step);
      if (event.type === 'step.log') {
        expect(started.has(event.step) && !ended.has(event.step)).toBe(true);
        output.set(event.step, (output.get(event.step) ?? '') + event.data);
      }
      if (event.type === 'step.done') {
        expect(started.has(event.step)).toBe(true);
        ended.add(event.step);
      }
    }
    expect(ended.size).toBe(5);
    const texts = [...output.values()];
    expect(texts).toContain(Array.from({ length: 20 }, (_, i) => `left line ${i + 1}\n`).join(''));
    expect(texts).toContain(Array.from({ length: 20 }, (_, i) => `right line ${i + 1}\n`).join(''));
  });
});
