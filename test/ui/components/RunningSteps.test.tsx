import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { RunningSteps } from '../../../src/ui/tty/components/RunningSteps.js';
import { planLiveLayout } from '../../../src/ui/tty/layout.js';
import { midBuild, T0, viewAfter } from '../script.js';

describe('RunningSteps', () => {
  // Given the build and test stages both running, each having printed lines
  const view = viewAfter(midBuild());

  it('draws parallel stages side by side on a wide terminal, each with its output', () => {
    const layout = planLiveLayout(view, 24, 120);
    expect(layout.columns).toHaveLength(2);
    const frame = render(
      <RunningSteps steps={layout.running} columns={layout.columns} tailLines={2} now={T0 + 1_000} width={120} color={false} />,
    ).lastFrame()!;
    const lines = frame.split('\n');
    // Then both stages share the first line, and their output shares the next ones.
    expect(lines[0]).toMatch(/\[build 1\/1\] RUN make +0\.8s +. \[test 1\/1\] RUN \.\/run-tests +0\.8s/);
    expect(lines[1]).toMatch(/^ {3}cc -c main\.c +test 1 ok/);
    expect(lines[2]).toMatch(/^ {3}cc -c util\.c +test 2 ok/);
  });

  it('stacks the stages on a narrow terminal', () => {
    const layout = planLiveLayout(view, 24, 60);
    expect(layout.columns).toBeUndefined();
    const lines = render(
      <RunningSteps steps={layout.running} columns={layout.columns} tailLines={1} now={T0 + 1_000} width={60} color={false} />,
    ).lastFrame()!.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('[build 1/1] RUN make');
    expect(lines[1]).toBe('   cc -c util.c');
    expect(lines[2]).toContain('[test 1/1] RUN ./run-tests');
    expect(lines[3]).toBe('   test 2 ok');
  });
});
