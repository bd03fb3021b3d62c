// Source wildcards as Go's filepath.Match reads them (what BuildKit uses for COPY/ADD):
// `*` any run of non-`/` characters, `?` one character, `[abc]` `[a-z]` `[^a]` a class,
// `\` escapes the next character. `**` as a whole component (for `--parents`) matches any
// number of directories.

import { BuildError } from '../../errors.js';

const SPECIAL = /[*?[\\]/;

export function hasWildcard(component: string): boolean {
  return SPECIAL.test(component);
}

/** The literal name a component stands for once escapes are removed (no wildcard in it). */
export function unescapeComponent(component: string): string {
  return component.replace(/\\(.)/g, '$1');
}

/** Compiles one path component into a matcher; throws on a malformed pattern, as Go does. */
export function compileComponent(pattern: string): (name: string) => boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '\\') {
      if (i + 1 >= pattern.length) throw badPattern(pattern);
      source += escapeRegExp(pattern[++i]!);
    } else if (char === '[') {
      const end = classEnd(pattern, i);
      source += classSource(pattern.slice(i + 1, end), pattern);
      i = end;
    } else source += escapeRegExp(char);
  }
  const re = new RegExp(source + '$', 'su');
  return (name) => re.test(name);
}

function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']' && i > start + 1 + (pattern[start + 1] === '^' ? 1 : 0)) return i;
  }
  throw badPattern(pattern);
}

function classSource(body: string, pattern: string): string {
  const negated = body.startsWith('^');
  let out = '';
  for (let i = negated ? 1 : 0; i < body.length; i++) {
    let char = body[i]!;
    if (char === '\\') char = body[++i] ?? '';
    if (char === '/') throw badPattern(pattern);
    out += char === '-' && i > (negated ? 1 : 0) && i < body.length - 1 ? '-' : escapeRegExp(char);
  }
  return `[${negated ? '^/' : ''}${out}]`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function badPattern(pattern: string): BuildError {
  return new BuildError('E_COPY_BAD_PATTERN', `syntax error in pattern "${pattern}"`, {
    hint: 'close every "[" with "]", and escape a literal "[", "*", "?" or "\\" with a backslash',
  });
}
