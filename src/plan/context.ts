// What the step builders share while one stage is planned: the recipe, the stage's evolving
// config and args, and helpers that turn a word into its expansion or a RecipeError.

import { RecipeError, type SourceLocation } from '../errors.js';
import { lex, WordError, type LexOptions, type Recipe } from '../recipe/index.js';
import { ArgScope, expansionEnv } from './args.js';
import type { FileSource, PlanWarning, StageConfig } from './types.js';

export interface StageState {
  index: number;
  config: StageConfig;
  args: ArgScope;
  /** CMD set in this stage: a later ENTRYPOINT keeps it (an inherited CMD is reset). */
  cmdSet: boolean;
}

export interface PlanContext {
  recipe: Recipe;
  warnings: PlanWarning[];
  /** Resolves `--from=` / `from=`: a stage name or index, else an image ref. */
  resolveSource(name: string, location: SourceLocation): FileSource;
}

export function recipeError(ctx: PlanContext, code: string, message: string, location: SourceLocation, hint?: string): RecipeError {
  return new RecipeError(code, message, location, { source: ctx.recipe.source, ...(hint ? { hint } : {}) });
}

/** Expands one word in the stage's scope (args, then ENV over them). */
export function expandIn(ctx: PlanContext, state: StageState, word: string, location: SourceLocation): string {
  return expandWith(ctx, expansionEnv(state.args, state.config.env), word, location);
}

/** `options` defaults to the recipe's escape character with quote removal. */
export function expandWith(ctx: PlanContext, vars: ReadonlyMap<string, string>, word: string, location: SourceLocation, options?: LexOptions): string {
  try {
    return lex(word, vars, options ?? { escape: ctx.recipe.directives.escape }).value;
  } catch (error) {
    if (!(error instanceof WordError)) throw error;
    throw recipeError(ctx, 'E_RECIPE_SUBSTITUTION', `${error.message} in ${JSON.stringify(word)}`, location, 'Check the ${…} syntax: ${name}, ${name:-default}, ${name:+alt}, ${name#pattern} …');
  }
}

/** Replaces or appends `key=value` in an env list, keeping positions as Docker does. */
export function setEnv(env: string[], key: string, value: string): void {
  const at = env.findIndex((entry) => entry === key || entry.startsWith(`${key}=`));
  if (at >= 0) env[at] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
}
