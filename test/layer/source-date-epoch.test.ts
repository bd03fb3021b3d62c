// SOURCE_DATE_EPOCH per the reproducible-builds spec: a plain non-negative integer, or an error.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseSourceDateEpoch } from '../../src/layer/index.js';

describe('parseSourceDateEpoch', () => {
  it('reads plain integers and defaults to 0 when unset', () => {
    expect(parseSourceDateEpoch(undefined)).toBe(0);
    expect(parseSourceDateEpoch('0')).toBe(0);
    expect(parseSourceDateEpoch('1700000000')).toBe(1_700_000_000);
  });

  it.each(['', ' 1', '1.5', '-1', '1e9', '0x10', 'yesterday', '2023-01-01', '99999999999999999999'])('refuses %j', (value) => {
    expect(() => parseSourceDateEpoch(value)).toThrow(UsageError);
    expect(() => parseSourceDateEpoch(value)).toThrow(/SOURCE_DATE_EPOCH/);
  });
});
