import { describe, expect, it } from 'vitest';
import { normalizeArgv, STDIN_ARG } from '../../src/cli/argv.js';

describe('the command line before yargs reads it', () => {
  it('a bare - becomes the stdin token, up to --; what follows -- is a command of its own', () => {
    expect(normalizeArgv(['build', '-f', '-', '-'])).toEqual(['build', '-f', STDIN_ARG, STDIN_ARG]);
    expect(normalizeArgv(['shell', 'app', '--', 'cat', '-'])).toEqual(['shell', 'app', '--', 'cat', '-']);
  });

  it('--no-cache-filter keeps its value; --no-cache stays a negation', () => {
    expect(normalizeArgv(['build', '--no-cache-filter', 'test', '--no-cache', '.'])).toEqual(['build', '--no-cache-filter=test', '--no-cache', '.']);
    expect(normalizeArgv(['shell', 'x', '--', 'tool', '--no-cache-filter', 'y'])).toEqual(['shell', 'x', '--', 'tool', '--no-cache-filter', 'y']);
  });
});
