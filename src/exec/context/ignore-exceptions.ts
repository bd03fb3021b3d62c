// Whether a dir that .dockerignore excludes must still be walked, because an exception
// (`!pattern`) may re-include something below it. Without this, `**` + `!src/app.ts` would
// lose src/app.ts; with it for every dir, an ignored node_modules would be walked on each build.

import { compileComponent } from '../copy/glob.js';
import { pathComponents } from '../layered-root.js';

/**
 * From .dockerignore patterns (cleaned, `!` marking exceptions, as recipe/ reads them), a
 * predicate for ContextFilter.mayIncludeBelow: true when some exception could match a path
 * below `relDir`, comparing component by component (a `**` could match anything below).
 */
export function exceptionMayMatchBelow(patterns: readonly string[]): (relDir: string) => boolean {
  const exceptions = patterns
    .filter((pattern) => pattern.startsWith('!'))
    .map((pattern) => pathComponents(pattern.slice(1)).map((part) => (part === '**' ? undefined : compileComponent(part))));
  if (exceptions.length === 0) return () => false;
  return (relDir) => {
    const dir = pathComponents(relDir);
    return exceptions.some((exception) => {
      for (const [i, name] of dir.entries()) {
        const matcher = exception[i];
        if (i >= exception.length) return false;
        if (matcher === undefined) return true; // `**`
        if (!matcher(name)) return false;
      }
      return true;
    });
  };
}
