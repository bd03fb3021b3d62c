// SOURCE_DATE_EPOCH, as the reproducible-builds specification defines it: a plain decimal
// integer of seconds since the Unix epoch. Anything else is an error, never silently ignored.

import { UsageError } from '../errors.js';

/** The epoch in seconds; 0 when unset (DESIGN.md: reproducible by default). */
export function parseSourceDateEpoch(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`SOURCE_DATE_EPOCH must be a non-negative integer number of seconds, got ${JSON.stringify(value)}`, {
      hint: 'see https://reproducible-builds.org/specs/source-date-epoch/ (e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct))',
    });
  }
  const seconds = Number(value);
  if (!Number.isSafeInteger(seconds)) {
    throw new UsageError(`SOURCE_DATE_EPOCH ${value} is too large`);
  }
  return seconds;
}
