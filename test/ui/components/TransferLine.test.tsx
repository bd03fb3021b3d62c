import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { progressBar, TransferLine } from '../../../src/ui/tty/components/TransferLine.js';

describe('TransferLine', () => {
  it('shows the label, a bar and the bytes when the total is known', () => {
    const transfer = { id: 'pull:x', label: 'pull debian:bookworm', current: 12_500_000, total: 50_000_000, done: false };
    const frame = render(<TransferLine transfer={transfer} width={70} color={false} />).lastFrame()!;
    expect(frame).toMatch(/^=> pull debian:bookworm +\[#####-+\] 12\.5MB \/ 50\.0MB$/);
  });

  it('shows only the bytes when the total is unknown', () => {
    const transfer = { id: 'context', label: 'load build context', current: 4_096, done: false };
    expect(render(<TransferLine transfer={transfer} width={40} color={false} />).lastFrame()).toMatch(/^=> load build context +4\.1kB$/);
  });

  it('fills the bar in proportion, clamped to [0, 1]', () => {
    expect(progressBar(0, 10)).toBe('[----------]');
    expect(progressBar(0.5, 10)).toBe('[#####-----]');
    expect(progressBar(3, 10)).toBe('[##########]');
  });
});
