import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { FailureReport } from '../../../src/ui/tty/components/FailureReport.js';
import { failure, viewAfter } from '../script.js';

describe('FailureReport', () => {
  it('shows the failing step, the end of its output, the recipe with the line marked, and the error', () => {
    const view = viewAfter(failure());
    const result = view.result;
    if (result?.kind !== 'error') throw new Error('expected a failed build');
    const failedStep = view.finished.find((s) => s.state === 'error');
    const frame = render(<FailureReport result={result} failedStep={failedStep} width={80} color={false} />).lastFrame()!;
    expect(frame.split('\n')).toEqual([
      '✗ ERROR [build 1/1] RUN make (exit status 2)',
      '  │ cc -c main.c',
      '  │ cc -c util.c',
      '  │ util.c:3: error: expected ;',
      'Dockerfile:4:1',
      '    2 | RUN echo base',
      '    3 | FROM base AS build',
      '>>> 4 | RUN make',
      '    5 | FROM base AS test',
      '    6 | RUN ./run-tests',
      'error: RUN make: exit status 2 [E_STEP_FAILED] after 1.3s',
      'hint: the output above shows why the command failed',
    ]);
  });

  it('says cancelled for E_CANCELLED', () => {
    const result = { kind: 'error' as const, durationMs: 2_000, code: 'E_CANCELLED', message: 'build cancelled' };
    expect(render(<FailureReport result={result} width={80} color={false} />).lastFrame()).toBe('✗ cancelled after 2.0s');
  });
});
