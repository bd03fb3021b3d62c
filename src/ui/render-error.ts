// The one printer for errors: code, message, recipe excerpt with the line marked, hint.
// Unexpected errors (bugs) get their stack and a request to report them.

import { formatLocation, formatSourceExcerpt, isTsbuildError, InternalError, RecipeError, BuildError } from '../errors.js';

export interface RenderErrorOptions {
  color: boolean;
  debug: boolean;
}

export function renderError(error: unknown, options: RenderErrorOptions): string {
  const red = (s: string) => (options.color ? `\u001b[31m${s}\u001b[39m` : s);
  const dim = (s: string) => (options.color ? `\u001b[2m${s}\u001b[22m` : s);
  if (!isTsbuildError(error) || error instanceof InternalError) {
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return `${red('error: internal error (a bug in tsbuild)')}\n${stack}\nPlease report it with the command line you ran.`;
  }
  const lines: string[] = [];
  const located = error instanceof RecipeError || error instanceof BuildError ? error : undefined;
  const where = located?.location ? `${formatLocation(located.location)}: ` : '';
  lines.push(`${red('error:')} ${where}${error.message} ${dim(`[${error.code}]`)}`);
  if (located?.location && located.source !== undefined) {
    lines.push(formatSourceExcerpt(located.source, located.location));
  }
  if (error.hint) lines.push(`hint: ${error.hint}`);
  if (options.debug && error.stack) lines.push(dim(error.stack));
  return lines.join('\n');
}
