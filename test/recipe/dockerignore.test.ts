// .dockerignore parsing and matching against a table of Docker's behaviour
// (fixtures/dockerignore/cases.table).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
