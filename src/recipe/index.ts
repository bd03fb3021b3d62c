// The recipe frontend's public surface: text → Recipe, the word lexer, .dockerignore.

export { parseRecipe, parseInstructionText } from './parse.js';
export { expandWord, expandWords, lex, WordError, type LexOptions, type ExpandResult } from './lexer.js';
export { createIgnoreMatcher, readIgnorePatterns, ignoreFileCandidates } from './dockerignore.js';
export { boolFlag, listFlag, stringFlag } from './flags.js';
export { closest } from './suggest.js';
export type * from './types.js';
