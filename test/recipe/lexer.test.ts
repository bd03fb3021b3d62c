// The word lexer against line tables in fixtures/recipe/lexer (input | env | expected),
// written after BuildKit's shell lexer tests.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandWord, expandWords, WordError } from '../../src/recipe/index.js';

const TABLES = resolve(import.meta.dirname, '../../fixtures/recipe/lexer');

interface Row {
  line: number;
  input: string;
  env: Map<string, string>;
  expected: string;
}

function field(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length > 1 ? (JSON.parse(trimmed) as string) : trimmed;
}

function parseEnv(text: string): Map<string, string> {
  const trimmed = text.trim();
  if (trimmed === '-') return new Map();
  const pairs = trimmed.startsWith('"') ? [field(trimmed)] : trimmed.split(/\s+/);
  return new Map(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
}

function readTable(name: string): Row[] {
  return readFileSync(resolve(TABLES, name), 'utf8')
    .split('\n')
    .map((text, index) => ({ text, line: index + 1 }))
    .filter(({ text }) => text.trim() !== '' && !text.startsWith('#'))
    .map(({ text, line }) => {
      // Split at ` | ` outside JSON strings: the input and env never contain ` | `.
      const parts = text.split(' | ');
      if (parts.length < 3) throw new Error(`${name}:${line}: expected input | env | expected`);
      return { line, input: parts[0]!.trim(), env: parseEnv(parts[1]!), expected: parts.slice(2).join(' | ').trim() };
    });
}

function check(row: Row, run: () => unknown, expected: unknown): void {
  if (row.expected.startsWith('error:')) {
    expect(run, `line ${row.line}: ${row.input}`).toThrow(row.expected.slice('error:'.length).trim());
  } else {
    expect(run(), `line ${row.line}: ${row.input}`).toEqual(expected);
  }
}

describe('expandWord (fixtures/recipe/lexer/expand.table)', () => {
  for (const row of readTable('expand.table')) {
    it(`${row.line}: ${row.input}`, () => check(row, () => expandWord(row.input, row.env), field(row.expected)));
  }
});

describe('expandWord with escape=` (fixtures/recipe/lexer/expand-backtick.table)', () => {
  for (const row of readTable('expand-backtick.table')) {
    it(`${row.line}: ${row.input}`, () => check(row, () => expandWord(row.input, row.env, { escape: '`' }), field(row.expected)));
  }
});

describe('expandWords (fixtures/recipe/lexer/words.table)', () => {
  for (const row of readTable('words.table')) {
    it(`${row.line}: ${row.input}`, () => check(row, () => expandWords(row.input, row.env), JSON.parse(row.expected)));
  }
});

describe('lexer options', () => {
  it('skipQuotes keeps quotes as characters and still expands inside them', () => {
    expect(expandWord(`echo '$a' "$a"`, new Map([['a', '1']]), { escape: '\\', skipQuotes: true })).toBe(`echo '1' "1"`);
  });

  it('rawEscapes keeps the escape character', () => {
    expect(expandWord('a\\$b', new Map([['b', '2']]), { escape: '\\', rawEscapes: true })).toBe('a\\$b');
  });
});

describe('lexer on arbitrary words', () => {
  const word = fc.array(fc.constantFrom('$', '{', '}', ':', '-', '+', '?', '#', '%', '/', '*', '\\', "'", '"', 'a', 'b', ' ', '[', '(', '.', '^', '|', 'é'), { maxLength: 30 }).map((chars) => chars.join(''));
  const env = new Map([['a', 'a-b/c*d.e'], ['b', '']]);

  it('expands or throws a WordError, never anything else', () => {
    fc.assert(
      fc.property(word, fc.constantFrom('\\', '`'), (text, escape) => {
        try {
          expect(typeof expandWord(text, env, { escape })).toBe('string');
        } catch (error) {
          if (!(error instanceof WordError)) throw error;
        }
      }),
      { numRuns: 5000, seed: 7 },
    );
  });
});
