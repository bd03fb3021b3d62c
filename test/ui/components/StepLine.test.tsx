import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { spinnerFrame, StepLine } from '../../../src/ui/tty/components/StepLine.js';
import { failure, midBuild, success, T0, viewAfter } from '../script.js';

const stepOf = (events: Parameters<typeof viewAfter>[0], id: number) => viewAfter(events).steps.find((s) => s.info.id === id)!;

describe('StepLine', () => {
  it('shows a running step with a spinner and its elapsed time', () => {
    // Given step 3 started at T0+200, When drawn at T0+1,500
    const { lastFrame } = render(<StepLine step={stepOf(midBuild(), 3)} now={T0 + 1_500} width={60} color={false} />);
    // Then: spinner, title, elapsed 1.3s on the right
    const frame = lastFrame()!;
    expect(frame.startsWith(`${spinnerFrame(T0 + 1_500)} [build 1/1] RUN make `)).toBe(true);
    expect(frame.endsWith(' 1.3s')).toBe(true);
    expect([...frame]).toHaveLength(60);
  });

  it('shows cached, done and failed steps with their outcome', () => {
    const line = (events: Parameters<typeof viewAfter>[0], id: number) =>
      render(<StepLine step={stepOf(events, id)} now={T0} width={60} color={false} />).lastFrame();
    expect(line(midBuild(), 1)).toMatch(/^=> CACHED \[base 1\/2\] FROM busybox +0\.0s$/);
    expect(line(success(), 3)).toMatch(/^=> \[build 1\/1\] RUN make +3\.2s$/);
    expect(line(failure(), 3)).toMatch(/^=> ERROR \[build 1\/1\] RUN make +1\.0s$/);
    expect(line(failure(), 4)).toMatch(/^=> CANCELLED \[test 1\/1\] RUN \.\/run-tests *$/);
    expect(line(midBuild(), 5)).toMatch(/^· \[stage-3 1\/1\] COPY --from=build \/out \/app +waiting$/);
  });

  it('cuts a long instruction to the width but keeps the state visible', () => {
    const step = stepOf(midBuild(), 3);
    const long = { ...step, info: { ...step.info, instruction: 'RUN ' + 'make '.repeat(40) } };
    const frame = render(<StepLine step={long} now={T0 + 1_500} width={30} color={false} />).lastFrame()!;
    expect([...frame].length).toBeLessThanOrEqual(30);
    expect(frame).toContain('…');
    expect(frame.endsWith('1.3s')).toBe(true);
  });
});
