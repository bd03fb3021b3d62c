// What the step builders share while one stage is planned: the recipe, the stage's evolving
// config and args, and helpers that turn a word into its expansion or a RecipeError.

import { RecipeError, type SourceLocation } from '../errors.js';
import { closest, lex, WordError, type ExpandResult, type LexOptions, type Recipe } from '../recipe/index.js';
import { ArgScope, expansionEnv } from './args.js';
import type { FileSource, PlanWarning, StageConfig } from './types.js';

export interface StageState {
  index: number;
  config: StageConfig;
  args: ArgScope;
  /** CMD set in this stage: a later ENTRYPOINT keeps it (an inherited CMD is reset). */
  cmdSet: boolean;
  /** The base's config is known (not an unresolved image), so an unset variable is a finding. */
  configKnown: boolean;
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

/**
 * Expands one word in the stage's scope (args, then ENV over them). A variable the word needs
 * that neither is set nor was declared by ARG is reported (BuildKit's UndefinedVar check).
 */
export function expandIn(ctx: PlanContext, state: StageState, word: string, location: SourceLocation, options?: LexOptions): string {
  return lexIn(ctx, state, word, location, options).value;
}

/** As expandIn, then split into words at unexpanded-quote-free whitespace (EXPOSE does this). */
export function expandWordsIn(ctx: PlanContext, state: StageState, word: string, location: SourceLocation): string[] {
  return lexIn(ctx, state, word, location).words;
}

function lexIn(ctx: PlanContext, state: StageState, word: string, location: SourceLocation, options?: LexOptions): ExpandResult {
  const vars = expansionEnv(state.args, state.config.env);
  const result = lexAt(ctx, vars, word, location, options);
  if (state.configKnown) {
    for (const name of result.undefinedNames) {
      if (state.args.has(name)) continue;
      const near = closest(name, [...vars.keys()]);
      warnOnce(ctx, { rule: 'UndefinedVar', message: `usage of undefined variable '$${name}'${near ? ` (did you mean $${near}?)` : ''}`, location });
    }
  }
  return result;
}

/** Expands with explicit variables and reports nothing. */
export function expandWith(ctx: PlanContext, vars: ReadonlyMap<string, string>, word: string, location: SourceLocation): string {
  return lexAt(ctx, vars, word, location).value;
}

/** `options` defaults to the recipe's escape character with quote removal. */
export function lexAt(ctx: PlanContext, vars: ReadonlyMap<string, string>, word: string, location: SourceLocation, options?: LexOptions): ExpandResult {
  try {
    return lex(word, vars, options ?? { escape: ctx.recipe.directives.escape });
  } catch (error) {
    if (!(error instanceof WordError)) throw error;
    throw recipeError(ctx, 'E_RECIPE_SUBSTITUTION', `${error.message} in ${JSON.stringify(word)}`, location, 'Check the ${…} syntax: ${name}, ${name:-default}, ${name:+alt}, ${name#pattern} …');
  }
}

/** The same finding at the same place is reported once (a word may be expanded twice for display). */
export function warnOnce(ctx: PlanContext, warning: PlanWarning & { location: SourceLocation }): void {
  const same = (other: PlanWarning) =>
    other.message === warning.message && other.location?.line === warning.location.line && other.location?.column === warning.location.column;
  if (!ctx.warnings.some(same)) ctx.warnings.push(warning);
}

/** Replaces or appends `key=value` in an env list, keeping positions as Docker does. */
export function setEnv(env: string[], key: string, value: string): void {
  const at = env.findIndex((entry) => entry === key || entry.startsWith(`${key}=`));
  if (at >= 0) env[at] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
}
