import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Summary } from '../../../src/ui/tty/components/Summary.js';
import { success, viewAfter } from '../script.js';

describe('Summary', () => {
  it('shows the image, its names, the time, the step counts and the layer sizes', () => {
    const view = viewAfter(success());
    const result = view.result;
    if (result?.kind !== 'done') throw new Error('expected a finished build');
    const frame = render(<Summary result={result} warnings={view.warnings} width={100} color={false} />).lastFrame()!;
    expect(frame.split('\n')).toEqual([
      '✔ Built in 3.8s: 5 steps, 4 run, 1 cached',
      `  image sha256:${'d'.repeat(64)} (example/app:latest)`,
      '  layers 3, 4.1MB',
      '       1.5kB sha256:aaaaaaaaaaaa  [base 2/2] RUN echo base',
      '       2.1MB sha256:bbbbbbbbbbbb  [build 1/1] RUN make',
      '       2.0MB sha256:cccccccccccc  [stage-3 1/1] COPY --from=build /out /app',
      '  warning: FROM without a digest is not reproducible',
    ]);
  });
});
