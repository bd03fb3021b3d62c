// .dockerignore parsing and matching against a table of Docker's behaviour
// (fixtures/dockerignore/cases.table).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuildError } from '../../src/errors.js';
import { createIgnoreMatcher, ignoreFileCandidates, readIgnorePatterns } from '../../src/recipe/index.js';

const TABLE = resolve(import.meta.dirname, '../../fixtures/dockerignore/cases.table');

const rows = readFileSync(TABLE, 'utf8')
  .split('\n')
  .map((text, index) => ({ text, line: index + 1 }))
  .filter(({ text }) => text.trim() !== '' && !text.startsWith('#'))
  .map(({ text, line }) => {
    const [patterns, path, excluded] = text.split(' | ').map((part) => part.trim());
    return { line, patterns: patterns!.split(' ; '), path: path!, excluded: excluded === 'yes' };
  });

describe('createIgnoreMatcher (fixtures/dockerignore/cases.table)', () => {
  for (const row of rows) {
    it(`${row.line}: [${row.patterns.join(', ')}] ${row.excluded ? 'excludes' : 'keeps'} ${row.path}`, () => {
      const excluded = createIgnoreMatcher(readIgnorePatterns(row.patterns.join('\n')));
      expect(excluded(row.path)).toBe(row.excluded);
    });
  }
});

describe('readIgnorePatterns', () => {
  it('drops comments and blank lines, trims, cleans paths and strips a leading /', () => {
    const text = '# a comment\n\n  *.log  \n/abs\n./rel/\n!  keep.log\na//b/../c\n';
    expect(readIgnorePatterns(text)).toEqual(['*.log', 'abs', 'rel', '!keep.log', 'a/c']);
  });

  it('keeps a # that is not in the first column as part of a pattern', () => {
    expect(readIgnorePatterns(' #notacomment')).toEqual(['#notacomment']);
  });

  it('refuses a pattern that cannot be compiled, with a typed error', () => {
    expect(() => createIgnoreMatcher(['ok', '**/[a'])).toThrow(BuildError);
    expect(() => createIgnoreMatcher(['[a'])).toThrow('invalid .dockerignore pattern "[a"');
  });

  it('never excludes the context root itself', () => {
    expect(createIgnoreMatcher(['**'])('.')).toBe(false);
  });
});

describe('ignoreFileCandidates', () => {
  it('prefers <Dockerfile>.dockerignore beside the Dockerfile, then the context root', () => {
    expect(ignoreFileCandidates('/ctx/build/app.Dockerfile', '/ctx')).toEqual(['/ctx/build/app.Dockerfile.dockerignore', '/ctx/.dockerignore']);
  });
});

/**
 * A model of Docker's matcher (moby/patternmatcher), written from its documented algorithm:
 * each pattern becomes an anchored regexp (`*` one element, `**` any number, `?` one
 * character); rules apply in order, an exclusion only to what is excluded so far, and a rule
 * matching any parent directory matches the path.
 */
function dockerModel(patterns: readonly string[]): (path: string) => boolean {
  const rules = patterns.map((raw) => {
    const exclusion = raw.startsWith('!');
    const pattern = exclusion ? raw.slice(1) : raw;
    let re = '^';
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i]!;
      if (ch === '*' && pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else if (ch === '*') re += '[^/]*';
      else if (ch === '?') re += '[^/]';
      else if ('.+()|{}$^'.includes(ch)) re += `\\${ch}`;
      else re += ch;
    }
    return { exclusion, re: new RegExp(`${re}$`) };
  });
  return (path) => {
    const parents = path.split('/').slice(0, -1);
    let matched = false;
    for (const rule of rules) {
      if (rule.exclusion !== matched) continue;
      const match = rule.re.test(path) || parents.some((_, i) => rule.re.test(parents.slice(0, i + 1).join('/')));
      if (match) matched = !rule.exclusion;
    }
    return matched;
  };
}

describe('createIgnoreMatcher agrees with a model of Docker\'s matcher', () => {
  const segment = fc.constantFrom('a', 'b', 'ab', '*', '**', '?', '*.x', 'a.x', '?b', '.x');
  const pattern = fc.tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 3 })).map(([not, parts]) => `${not ? '!' : ''}${parts.join('/')}`);
  const path = fc.array(fc.constantFrom('a', 'b', 'ab', 'a.x', '.x', 'bb'), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));

  it('on random rule lists and paths', () => {
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 4 }), fc.array(path, { minLength: 1, maxLength: 8 }), (raw, paths) => {
        const patterns = readIgnorePatterns(raw.join('\n'));
        const ours = createIgnoreMatcher(patterns);
        const model = dockerModel(patterns);
        for (const p of paths) expect(ours(p), `[${patterns.join(', ')}] ${p}`).toBe(model(p));
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});
