// .dockerignore: which context paths a build may not read. Docker's rules: `#` lines are
// comments, each pattern is trimmed and path-cleaned, a leading `/` is dropped, `!` re-includes,
// the last matching rule wins, and a rule matching a directory matches everything below it.

import ignoreModule from '@balena/dockerignore';
import { join, posix } from 'node:path';
import { BuildError } from '../errors.js';

/** The patterns of a .dockerignore file, cleaned as Docker reads them. */
// The package is CommonJS (`module.exports = factory`) but its types declare a default export.
const ignore = ignoreModule as unknown as typeof ignoreModule.default;

export function readIgnorePatterns(text: string): string[] {
  const patterns: string[] = [];
  for (const rawLine of text.replace(/^\uFEFF/, '').split('\n')) {
    // Only a `#` in the first column makes a comment, as in Docker.
    if (rawLine.startsWith('#')) continue;
    let pattern = rawLine.trim();
    if (pattern === '') continue;
    const exception = pattern.startsWith('!');
    if (exception) pattern = pattern.slice(1).trim();
    if (pattern === '') continue;
    pattern = posix.normalize(pattern).replace(/\/+$/, '') || '/';
    if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    patterns.push(exception ? `!${pattern}` : pattern);
  }
  return patterns;
}

/**
 * A predicate telling whether a context path (relative, `/`-separated, e.g. `src/a.ts`) is
 * excluded by `patterns` (as returned by readIgnorePatterns).
 */
export function createIgnoreMatcher(patterns: readonly string[]): (relPath: string) => boolean {
  for (const pattern of patterns) assertValidPattern(pattern);
  // Docker matches case-sensitively on Linux; the library's default is the opposite.
  const matcher = ignore({ ignorecase: false }).add([...patterns]);
  return (relPath: string) => {
    const cleaned = posix.normalize(relPath).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (cleaned === '' || cleaned === '.') return false;
    return matcher.ignores(cleaned);
  };
}

/** Docker refuses a pattern it cannot compile (an unclosed `[`, say) before reading the context. */
function assertValidPattern(pattern: string): void {
  try {
    ignore({ ignorecase: false }).add(pattern).ignores('probe');
  } catch (cause) {
    throw new BuildError('E_DOCKERIGNORE_PATTERN', `invalid .dockerignore pattern "${pattern}": ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      hint: 'Fix or remove the pattern; close every [ with ].',
    });
  }
}

/**
 * Where the ignore file for a build is, most specific first: `<Dockerfile>.dockerignore`
 * beside the Dockerfile, then `.dockerignore` at the context root. The caller reads the
 * first that exists.
 */
export function ignoreFileCandidates(dockerfilePath: string, contextDir: string): string[] {
  return [`${dockerfilePath}.dockerignore`, join(contextDir, '.dockerignore')];
}
