// Base images the build names but the store lacks are pulled before planning; `--pull` pulls
// every base again (a tag may have moved). A failed pull of a missing base is returned, not
// thrown: the planner then reports the missing base at its FROM line with this as the reason.

import type { ContentStore } from '../store/types.js';
import type { RegistryOptions } from './options.js';
import { pullImage } from './pull.js';

/** Pulls `refs` in parallel and returns the failures by ref; with `strict`, the first failure is thrown instead. */
export async function pullBaseImages(store: ContentStore, refs: readonly string[], options: RegistryOptions & { strict?: boolean } = {}): Promise<Map<string, Error>> {
  const results = await Promise.allSettled(refs.map((ref) => pullImage(store, ref, options)));
  const failures = new Map<string, Error>();
  results.forEach((result, i) => {
    if (result.status === 'rejected') failures.set(refs[i]!, result.reason instanceof Error ? result.reason : new Error(String(result.reason)));
  });
  const first = failures.values().next();
  if (options.strict && !first.done) throw first.value;
  return failures;
}
