import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/digest.js';
import { formatReplayReport } from '../../src/replay/report.js';

describe('formatReplayReport', () => {
  it('says nothing of the image when it reproduced', () => {
    const image = sha256('image');
    expect(formatReplayReport({ total: 2, reproduced: 2, divergent: [], image: { archived: image, rebuilt: image } })).toBe('reproduced 2/2 steps\n');
  });

  it('names both digests when every step reproduced and the image did not (its config differs)', () => {
    const report = { total: 2, reproduced: 2, divergent: [], image: { archived: sha256('archived'), rebuilt: sha256('rebuilt') } };
    expect(formatReplayReport(report)).toBe(
      `the image did not reproduce: archived ${sha256('archived')}, rebuilt ${sha256('rebuilt')}\nreproduced 2/2 steps\n`,
    );
  });
});
