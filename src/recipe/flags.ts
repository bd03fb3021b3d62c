// Instruction flags (`--from=build`, `--link`): the leading words that start with `--`, as
// Docker's parser extracts them. Quotes inside a flag are removed, `\` escapes the next
// character, and a bare `--` ends the flags.

import { RecipeError } from '../errors.js';
import type { Flag } from './types.js';
import { positionAt, type LogicalLine } from './logical-line.js';

export interface ExtractedFlags {
  flags: Flag[];
  /** Index in the logical line where the arguments start. */
  restStart: number;
}

export function extractFlags(logical: LogicalLine, start: number, file: string, source: string): ExtractedFlags {
  const text = logical.text;
  const flags: Flag[] = [];
  let i = start;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (!text.startsWith('--', i)) return { flags, restStart: i };
    const wordStart = i;
    let word = '';
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (quote) {
        if (ch === quote) quote = undefined;
        else word += ch === '\\' && i + 1 < text.length ? text[++i]! : ch;
        continue;
      }
      if (/\s/.test(ch)) break;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\') word += i + 1 < text.length ? text[++i]! : '';
      else word += ch;
    }
    if (quote) {
      throw new RecipeError('E_RECIPE_FLAG', `unterminated quote in ${word.split('=')[0]}`, { file, ...positionAt(logical, wordStart) }, {
        source,
        hint: `Close the ${quote} quote.`,
      });
    }
    if (word === '--') {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      return { flags, restStart: i };
    }
    const equals = word.indexOf('=');
    flags.push({
      name: equals < 0 ? word.slice(2) : word.slice(2, equals),
      value: equals < 0 ? null : word.slice(equals + 1),
      location: { file, ...positionAt(logical, wordStart) },
    });
  }
}

export type FlagKind = 'string' | 'bool' | 'list';

/** The flags one instruction accepts, by name. */
export type FlagSpec = Record<string, FlagKind>;

/** Checks flags against what the instruction accepts, as Docker's BFlags does. */
export function checkFlags(keyword: string, flags: Flag[], spec: FlagSpec, source: string): void {
  const seen = new Set<string>();
  const fail = (flag: Flag, message: string, hint: string): never => {
    throw new RecipeError('E_RECIPE_FLAG', message, flag.location, { source, hint });
  };
  for (const flag of flags) {
    const kind = spec[flag.name];
    const accepted = Object.keys(spec).map((name) => `--${name}`).join(', ') || 'no flags';
    if (!kind) fail(flag, `unknown flag --${flag.name} for ${keyword}`, `${keyword} accepts ${accepted}.`);
    if (kind !== 'list' && seen.has(flag.name)) fail(flag, `duplicate flag --${flag.name}`, 'Give it once.');
    seen.add(flag.name);
    if (kind === 'bool') {
      const value = flag.value?.toLowerCase() ?? 'true';
      if (value !== 'true' && value !== 'false') {
        fail(flag, `--${flag.name} expects true or false, not "${flag.value}"`, `Write --${flag.name} or --${flag.name}=false.`);
      }
    } else if (flag.value === null) {
      fail(flag, `missing a value on flag --${flag.name}`, `Write --${flag.name}=VALUE.`);
    }
  }
}

/** The value of a string flag, once checkFlags has passed. */
export function stringFlag(flags: readonly Flag[], name: string): Flag | undefined {
  return flags.find((flag) => flag.name === name);
}

export function boolFlag(flags: readonly Flag[], name: string): boolean {
  const flag = flags.find((f) => f.name === name);
  return flag !== undefined && (flag.value === null || flag.value.toLowerCase() === 'true');
}

export function listFlag(flags: readonly Flag[], name: string): Flag[] {
  return flags.filter((flag) => flag.name === name);
}
