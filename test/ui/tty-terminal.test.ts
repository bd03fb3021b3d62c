// The tty view in a real terminal (tmux, 100×20): what is on screen while two stages run in
// parallel, and what stays after the build. Catches what frame tests cannot: leftover frames,
// finished steps printed twice, lines wider than the terminal.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { compiledSrc } from '../helpers/compiled-src.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { TmuxSession, tmuxAvailable } from '../helpers/tmux.js';

const COLUMNS = 100;
const ROWS = 20;
const count = (text: string, needle: string) => text.split(needle).length - 1;
const hasTmux = tmuxAvailable();
if (!hasTmux) console.warn('tty-terminal.test: SKIPPED: tmux is not installed (scripts/setup.sh installs it)');

describe.skipIf(!hasTmux)('tty view in a real terminal', () => {
  const session = hasTmux ? new TmuxSession(`ui-${process.pid}`, COLUMNS, ROWS, REPO_ROOT) : undefined;
  afterAll(() => session?.kill());

  it('shows parallel stages live, then leaves each finished step once and the summary', async () => {
    const gateDir = mkdtempSync(join(tmpdir(), 'tsbuild-ui-'));
    onTestFinished(() => rmSync(gateDir, { recursive: true, force: true }));
    const gate = join(gateDir, 'continue');
    const driver = join(REPO_ROOT, 'test/ui/drive-tty.mjs');
    session!.run(`clear; NO_COLOR=1 CI=true node ${driver} ${compiledSrc()} ${gate}`);

    // Mid-build: both stages running, side by side, each with its latest output
    const mid = await session!.waitFor((screen) => /case \d+ ok/.test(screen) && screen.includes('2 running'));
    const lines = mid.split('\n');
    expect(count(mid, '[+] Building')).toBe(1);
    expect(lines.some((l) => l.includes('[build 1/2] RUN make') && l.includes('[test 1/1] RUN ./run-tests'))).toBe(true);
    expect(lines.some((l) => /make: compiling unit-\d+\.c +test: case \d+ ok/.test(l))).toBe(true);
    expect(count(mid, '=> CACHED [base 1/2] FROM busybox')).toBe(1);
    expect(count(mid, '=> [base 2/2] RUN echo base')).toBe(1);
    expect(mid).toMatch(/· \[build 2\/2\] RUN make install +waiting/);

    // The end: old frames are gone, finished steps are listed once, the summary stays
    writeFileSync(gate, '');
    await session!.waitFor((screen) => screen.includes('DRIVER EXIT'));
    const all = session!.capture({ history: true });
    expect(count(all, '[+] Building')).toBe(1);
    expect(all).toContain('[+] Building 2.5s (6/6) FINISHED');
    expect(all).toContain('✔ Built in 2.5s: 6 steps, 5 run, 1 cached');
    expect(all).toContain(`image sha256:${'d'.repeat(64)} (example/app:latest)`);
    for (const title of ['CACHED [base 1/2] FROM busybox', '[base 2/2] RUN echo base', '[build 1/2] RUN make ', '[build 2/2] RUN make install', '[test 1/1] RUN ./run-tests', '[final 1/1] COPY --from=build /out /app']) {
      expect(count(all, `=> ${title}`), title).toBe(1);
    }
    expect(all).not.toMatch(/waiting|running|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    for (const line of all.split('\n')) expect([...line].length).toBeLessThanOrEqual(COLUMNS);
  });
});
