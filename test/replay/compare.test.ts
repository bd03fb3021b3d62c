import { describe, expect, it } from 'vitest';
import { compareSteps } from '../../src/replay/compare.js';
import { sha256 } from '../../src/lib/digest.js';

const L = (name: string) => sha256(name);

describe('compareSteps', () => {
  it('counts every step reproduced when all layer chains match', () => {
    const steps = [{ id: 1, diffIds: [L('base')] }, { id: 2, diffIds: [L('base'), L('a')] }];
    expect(compareSteps(steps, steps)).toEqual({ total: 2, reproduced: 2, divergent: [] });
  });

  it('names the first divergent step and the layers to compare', () => {
    const archived = [
      { id: 1, diffIds: [L('base')] },
      { id: 2, diffIds: [L('base'), L('date-mon')] },
      { id: 3, diffIds: [L('base'), L('date-mon'), L('c')] },
    ];
    const rebuilt = [
      { id: 1, diffIds: [L('base')] },
      { id: 2, diffIds: [L('base'), L('date-tue')] },
      { id: 3, diffIds: [L('base'), L('date-tue'), L('c')] },
    ];
    const result = compareSteps(archived, rebuilt);
    expect(result.reproduced).toBe(1);
    expect(result.divergent).toEqual([2, 3]);
    expect(result.first).toEqual({ step: 2, layerIndex: 1, archived: L('date-mon'), rebuilt: L('date-tue') });
  });

  it('treats a step that made a layer in one build and none in the other as divergent', () => {
    const result = compareSteps([{ id: 1, diffIds: [L('base'), L('x')] }], [{ id: 1, diffIds: [L('base')] }]);
    expect(result.first).toEqual({ step: 1, layerIndex: 1, archived: L('x'), rebuilt: undefined });
  });
});
