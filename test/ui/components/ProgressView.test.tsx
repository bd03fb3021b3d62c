import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProgressView } from '../../../src/ui/tty/components/ProgressView.js';
import type { BuildEvent } from '../../../src/events.js';
import { bigBuild, failure, midBuild, success, T0, viewAfter } from '../script.js';

const width = (line: string) => [...line].length;

describe('ProgressView', () => {
  it('mid-build: finished steps above, then the header, the running stages with output, the waiting step', () => {
    const frame = render(<ProgressView view={viewAfter(midBuild())} now={T0 + 1_000} width={120} rows={24} color={false} />).lastFrame()!;
    const lines = frame.split('\n');
    expect(lines[0]).toMatch(/^=> load build context +4\.0kB done$/);
    expect(lines[1]).toMatch(/^=> CACHED \[base 1\/2\] FROM busybox +0\.0s$/);
    expect(lines[2]).toMatch(/^=> \[base 2\/2\] RUN echo base +0\.1s$/);
    expect(lines[3]).toBe('[+] Building 1.0s (2/5) 2 running');
    expect(lines[4]).toMatch(/\[build 1\/1\] RUN make +0\.8s +. \[test 1\/1\] RUN \.\/run-tests +0\.8s/);
    expect(lines[5]).toMatch(/^ {3}cc -c main\.c +test 1 ok/);
    expect(lines[7]).toMatch(/^· \[stage-3 1\/1\] COPY --from=build \/out \/app +waiting$/);
    expect(lines).toHaveLength(8);
  });

  it('shows transfers alone when there is no build (a pull), and prints them once done', () => {
    const events: BuildEvent[] = [
      { type: 'transfer', time: T0, id: 'pull:a', label: 'pulling 0123456789ab', current: 2_000_000, total: 2_000_000, done: true },
      { type: 'transfer', time: T0, id: 'pull:b', label: 'pulling 456789abcdef', current: 250, total: 1_000 },
    ];
    const frame = render(<ProgressView view={viewAfter(events)} now={T0} width={80} rows={24} color={false} />).lastFrame()!;
    const lines = frame.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^=> pulling 0123456789ab +2\.0MB done$/);
    expect(lines[1]).toMatch(/^=> pulling 456789abcdef +\[#####-+\] 250B \/ 1\.0kB$/);
  });

  it('shows a transfer in progress with its bar', () => {
    const events: BuildEvent[] = [
      ...midBuild().slice(0, 1),
      { type: 'transfer', time: T0 + 5, id: 'pull:base', label: 'pull busybox', current: 500, total: 1_000 },
    ];
    const frame = render(<ProgressView view={viewAfter(events)} now={T0 + 10} width={80} rows={24} color={false} />).lastFrame()!;
    expect(frame.split('\n')[1]).toMatch(/^=> pull busybox +\[##########----------\] 500B \/ 1\.0kB$/);
  });

  it('fits a narrow terminal: no line wider than the terminal', () => {
    const frame = render(<ProgressView view={viewAfter(midBuild())} now={T0 + 1_000} width={32} rows={24} color={false} />).lastFrame()!;
    const lines = frame.split('\n');
    for (const line of lines) expect(width(line)).toBeLessThanOrEqual(32);
    // Stacked, not side by side, and the long instruction is cut.
    expect(lines.some((l) => l.includes('[build 1/1]') && l.includes('[test 1/1]'))).toBe(false);
    expect(lines.some((l) => l.startsWith('· [stage-3 1/1] COPY') && l.includes('…'))).toBe(true);
  });

  it('collapses many steps into counts to stay below the terminal height', () => {
    // Given 200 steps, 20 of them running, in a 15-row terminal
    const running = Array.from({ length: 20 }, (_, i) => i + 1);
    const frame = render(<ProgressView view={viewAfter(bigBuild(200, 4, running))} now={T0 + 1_000} width={80} rows={15} color={false} />).lastFrame()!;
    const lines = frame.split('\n');
    expect(lines.length).toBeLessThanOrEqual(14);
    expect(lines[0]).toBe('[+] Building 1.0s (0/200) 20 running');
    expect(lines.filter((l) => l.includes('RUN ./step'))).toHaveLength(11);
    expect(lines.at(-2)).toBe('  … 9 more running');
    expect(lines.at(-1)).toBe('  … 180 waiting');
  });

  it('keeps the live region below the terminal height and within its width, whatever the state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 5, max: 40 }), fc.integer({ min: 20, max: 160 }), (count, runningCount, rows, columns) => {
        const running = Array.from({ length: Math.min(count, runningCount) }, (_, i) => i + 1);
        const frame = render(<ProgressView view={viewAfter(bigBuild(count, 3, running))} now={T0 + 1_000} width={columns} rows={rows} color={false} />).lastFrame()!;
        expect(frame.split('\n').length).toBeLessThan(rows);
        for (const line of frame.split('\n')) expect(width(line)).toBeLessThanOrEqual(columns);
      }),
      { numRuns: 60 },
    );
  });

  it('ends with the summary after a successful build', () => {
    const frame = render(<ProgressView view={viewAfter(success())} now={T0 + 9_999} width={100} rows={24} color={false} />).lastFrame()!;
    const lines = frame.split('\n').slice(1); // after the context transfer
    expect(lines.slice(0, 5).map((l) => l.replace(/ +\S+$/, ''))).toEqual([
      '=> CACHED [base 1/2] FROM busybox',
      '=> [base 2/2] RUN echo base',
      '=> [build 1/1] RUN make',
      '=> [test 1/1] RUN ./run-tests',
      '=> [stage-3 1/1] COPY --from=build /out /app',
    ]);
    expect(lines[5]).toBe('[+] Building 3.8s (5/5) FINISHED');
    expect(lines[6]).toBe('✔ Built in 3.8s: 5 steps, 4 run, 1 cached');
  });

  it('ends with the failure report after a failed build, the other stage cancelled', () => {
    const frame = render(<ProgressView view={viewAfter(failure())} now={T0 + 9_999} width={100} rows={24} color={false} />).lastFrame()!;
    expect(frame).toMatch(/=> ERROR \[build 1\/1\] RUN make +1\.0s/);
    expect(frame).toMatch(/=> CANCELLED \[test 1\/1\] RUN \.\/run-tests$/m);
    expect(frame).toContain('[+] Building 1.3s (4/5) FAILED');
    expect(frame).toContain('>>> 4 | RUN make');
  });

  it('says CANCELLED when the build was cancelled', () => {
    const events: BuildEvent[] = [
      ...midBuild(),
      { type: 'step.cancelled', time: T0 + 900, step: 3 },
      { type: 'build.error', time: T0 + 950, durationMs: 950, code: 'E_CANCELLED', message: 'build cancelled' },
    ];
    const frame = render(<ProgressView view={viewAfter(events)} now={T0 + 9_999} width={100} rows={24} color={false} />).lastFrame()!;
    expect(frame).toMatch(/=> CANCELLED \[build 1\/1\] RUN make/);
    expect(frame).toMatch(/=> CANCELLED \[test 1\/1\] RUN \.\/run-tests/);
    expect(frame).toContain('[+] Building 0.9s (4/5) CANCELLED');
    expect(frame).toContain('✗ cancelled after 0.9s');
  });
});
