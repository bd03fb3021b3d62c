// Recipe + options → BuildGraph. Stages are planned from the target back through what it
// needs (its base stage, COPY --from, RUN --mount from=), so unused stages are never
// expanded, as in BuildKit. A stage may only use stages defined before it, which makes the
// recipe order a dependency order and rules cycles out.

import { BuildError, RecipeError, UsageError, type SourceLocation } from '../errors.js';
import { closest, parseInstructionText, type ArgInstruction, type Instruction, type Recipe, type Stage } from '../recipe/index.js';
import { ArgScope, expansionEnv, isProxyArg } from './args.js';
import { emptyConfig, imageConfig, scratchConfig, stageConfig } from './base-config.js';
import { applyChecks } from './checks.js';
import { planConfigStep } from './config-steps.js';
import { expandWith, lexAt, recipeError, warnOnce, type PlanContext, type StageState } from './context.js';
import { planCopyStep } from './copy-step.js';
import { hostPlatform, parsePlatform, platformArgs } from './platform.js';
import { planRunStep } from './run-step.js';
import type { BuildGraph, FileSource, PlanOptions, PlannedStage, PlannedStep, PlanWarning, StageBase, StageConfig, TargetPlatform } from './types.js';

/** An image reference: [registry[:port]/]path[:tag][@digest], path components lower case. */
const IMAGE_REF = /^([a-zA-Z0-9.-]+(:\d+)?\/)?[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** Build args BuildKit consumes itself: never reported as unused. */
const BUILTIN_ARG = /^(SOURCE_DATE_EPOCH|BUILDKIT_[A-Z0-9_]+)$/;

export function planBuild(recipe: Recipe, options: PlanOptions = {}): BuildGraph {
  return new Planner(recipe, options, false).plan();
}

/**
 * The image refs the target needs, after ARG expansion: bases in FROM and images read by
 * COPY --from / RUN --mount from= (never `scratch` or stage names). Solve resolves these and
 * passes their configs back as `options.baseImages`.
 */
export function baseImageRefs(recipe: Recipe, options: PlanOptions = {}): string[] {
  const graph = new Planner(recipe, options, true).plan();
  const refs = graph.stages.flatMap((stage) => [...(stage.base.kind === 'image' ? [stage.base.ref] : []), ...stage.imageInputs]);
  return [...new Set(refs)];
}

interface ResolvedBase {
  base: StageBase;
  config: StageConfig;
  args: ArgScope;
  triggers: Instruction[];
  configKnown: boolean;
}

interface StageResult {
  planned: PlannedStage;
  final: StageConfig;
  args: ArgScope;
  /** False when the stage, or a stage it is built on, starts from an unresolved image. */
  configKnown: boolean;
}

class Planner implements PlanContext {
  readonly recipe: Recipe;
  readonly warnings: PlanWarning[];
  private readonly options: PlanOptions;
  /** Discovery (baseImageRefs): base configs are not known yet, so none are expected. */
  private readonly discovering: boolean;
  private readonly platform: TargetPlatform;
  private readonly buildPlatform: TargetPlatform;
  private readonly buildArgs: Record<string, string>;
  /** Global scope: predefined platform args, then the ARGs before the first FROM. */
  private readonly globals = new ArgScope();
  private readonly consumed = new Set<string>();
  private readonly resolvedArgs: Record<string, string> = {};
  private readonly results = new Map<number, StageResult>();
  /** Base images already warned about as unresolved. */
  private readonly unresolved = new Set<string>();
  /** The stage being planned, and what it depends on so far. */
  private current: { stage: Stage; deps: Set<number>; images: Set<string> } | undefined;

  constructor(recipe: Recipe, options: PlanOptions, discovering: boolean) {
    this.recipe = recipe;
    this.options = options;
    this.discovering = discovering;
    this.warnings = discovering ? [] : [...recipe.warnings];
    this.buildPlatform = options.buildPlatform ? parsePlatform(options.buildPlatform) : hostPlatform();
    this.platform = options.platform ? parsePlatform(options.platform) : this.buildPlatform;
    this.buildArgs = options.buildArgs ?? {};
    for (const [name, value] of Object.entries(platformArgs(this.platform, this.buildPlatform))) this.globals.declare(name, value);
    for (const instruction of recipe.globalArgs) this.declareArgs(instruction, this.globals, () => this.globalVars());
  }

  plan(): BuildGraph {
    const target = this.targetIndex();
    this.planStage(target);
    const stages = [...this.results.entries()].sort(([a], [b]) => a - b).map(([, result]) => result.planned);
    this.warnUnusedBuildArgs();
    return {
      file: this.recipe.file,
      source: this.recipe.source,
      platform: this.platform,
      buildPlatform: this.buildPlatform,
      target,
      stages,
      buildArgs: this.resolvedArgs,
      warnings: this.checkedWarnings(),
    };
  }

  /** `# check=` (or BUILDKIT_DOCKERFILE_CHECK, which wins) applied to the warnings, in recipe order. */
  private checkedWarnings(): PlanWarning[] {
    const check = this.buildArgs.BUILDKIT_DOCKERFILE_CHECK ?? this.recipe.directives.check;
    return applyChecks([...this.warnings].sort(byLocation), check, this.recipe.source);
  }

  private targetIndex(): number {
    const target = this.options.target;
    const stages = this.recipe.stages;
    if (target === undefined || target === '') return stages.length - 1;
    const byName = stages.find((stage) => stage.name === target.toLowerCase());
    if (byName) return byName.index;
    if (/^\d+$/.test(target) && Number(target) < stages.length) return Number(target);
    const names = stages.map((stage) => stage.name).filter(Boolean);
    throw new BuildError('E_UNKNOWN_TARGET', `target stage "${target}" could not be found`, {
      hint: names.length > 0 ? `Stages in ${this.recipe.file}: ${names.join(', ')} (or an index 0–${stages.length - 1}).` : `Name a stage with FROM image AS name, or use an index 0–${stages.length - 1}.`,
    });
  }

  private globalVars(): Map<string, string> {
    return new Map(this.globals.entries());
  }

  /** ARG: a --build-arg wins, then the default (expanded), then for `ARG name` the global value. */
  private declareArgs(instruction: ArgInstruction, scope: ArgScope, vars: () => ReadonlyMap<string, string>): void {
    for (const { name, defaultValue, location } of instruction.args) {
      let value: string | undefined;
      if (Object.hasOwn(this.buildArgs, name)) value = this.buildArgs[name];
      else if (defaultValue !== undefined) value = expandWith(this, vars(), defaultValue, location);
      // A stage's `ARG name` takes the global value; a global one keeps the predefined or earlier value.
      else value = this.globals.get(name);
      scope.declare(name, value);
      this.consumed.add(name);
      if (value !== undefined && !isProxyArg(name)) this.resolvedArgs[name] = value;
    }
  }

  private planStage(index: number): StageResult {
    const done = this.results.get(index);
    if (done) return done;
    const stage = this.recipe.stages[index]!;
    const { base, config, args, triggers, configKnown } = this.resolveBase(stage);
    const outer = this.current;
    this.current = { stage, deps: new Set(base.kind === 'stage' ? [base.stage] : []), images: new Set() };
    const state: StageState = { index, config: structuredClone(config), args, cmdSet: false, configKnown };
    const steps: PlannedStep[] = [];
    for (const trigger of triggers) {
      const step = this.planStep(state, trigger);
      steps.push({ ...step, instruction: `ONBUILD ${step.instruction}` });
    }
    for (const instruction of stage.instructions) steps.push(this.planStep(state, instruction));
    const { deps, images } = this.current;
    this.current = outer;
    const result: StageResult = {
      planned: {
        index,
        ...(stage.name ? { name: stage.name } : {}),
        base,
        platform: this.stagePlatform(stage, base),
        dependsOn: [...deps].sort((a, b) => a - b),
        imageInputs: [...images],
        baseConfig: config,
        steps,
        location: stage.from.location,
      },
      final: state.config,
      args: state.args,
      configKnown,
    };
    this.results.set(index, result);
    for (const dep of deps) this.planStage(dep);
    return result;
  }

  private planStep(state: StageState, instruction: Instruction): PlannedStep {
    switch (instruction.keyword) {
      case 'FROM':
        throw recipeError(this, 'E_RECIPE_SYNTAX', 'FROM inside a stage', instruction.location);
      case 'RUN': {
        const step = planRunStep(this, state, instruction);
        const proxy = Object.fromEntries(Object.entries(this.buildArgs).filter(([name]) => isProxyArg(name)));
        return Object.keys(proxy).length > 0 ? { ...step, proxy } : step;
      }
      case 'COPY':
      case 'ADD':
        return planCopyStep(this, state, instruction);
      case 'ARG':
        this.declareArgs(instruction, state.args, () => expansionEnv(state.args, state.config.env));
        return planConfigStep(this, state, instruction);
      default:
        return planConfigStep(this, state, instruction);
    }
  }

  private resolveBase(stage: Stage): ResolvedBase {
    const from = stage.from;
    const image = this.expandFromWord(from.image, from.argsLocation);
    if (image.trim() === '') {
      throw recipeError(this, 'E_RECIPE_SYNTAX', `base name (${from.image}) should not be blank`, from.argsLocation, 'Give the ARG used in FROM a value, e.g. with --build-arg.');
    }
    const named = this.options.namedContexts?.[image.toLowerCase()];
    // As BuildKit does: the directory's files, as root's, with no image config.
    if (named?.kind === 'dir') return { base: { kind: 'named', name: image.toLowerCase() }, config: scratchConfig(), args: new ArgScope(), triggers: [], configKnown: true };
    if (named?.kind === 'image') return this.resolveImageBase(named.ref, from);
    const baseStage = this.recipe.stages.find((other) => other.index < stage.index && other.name === image.toLowerCase());
    if (baseStage) {
      const result = this.planStage(baseStage.index);
      // As in BuildKit, the ONBUILD triggers of a stage run in the stages built FROM it too.
      const triggers = result.final.onBuild.map((text) => this.parseTrigger(text, from.location));
      return { base: { kind: 'stage', stage: baseStage.index }, config: stageConfig(result.final), args: result.args.clone(), triggers, configKnown: result.configKnown };
    }
    return this.resolveImageBase(image, from);
  }

  private resolveImageBase(image: string, from: Stage['from']): ResolvedBase {
    if (image.toLowerCase() === 'scratch') return { base: { kind: 'scratch' }, config: scratchConfig(), args: new ArgScope(), triggers: [], configKnown: true };
    const info = this.options.baseImages?.[image];
    if (!info) {
      if (!this.discovering && !this.unresolved.has(image)) {
        this.unresolved.add(image);
        this.warnings.push({ message: `base image ${image} was not resolved: planned without its config (its ENV, WORKDIR, USER … are missing)`, location: from.argsLocation });
      }
      return { base: { kind: 'image', ref: image }, config: emptyConfig(), args: new ArgScope(), triggers: [], configKnown: false };
    }
    const triggers = (info.onBuild ?? []).map((text) => this.parseTrigger(text, from.location));
    return { base: { kind: 'image', ref: image }, config: imageConfig(info), args: new ArgScope(), triggers, configKnown: true };
  }

  /** Expands a FROM word with the global args; a name no global ARG declares is reported. */
  private expandFromWord(word: string, location: SourceLocation): string {
    const { value, undefinedNames } = lexAt(this, this.globalVars(), word, location);
    for (const name of undefinedNames) {
      if (this.globals.has(name)) continue;
      warnOnce(this, { rule: 'UndefinedArgInFrom', message: `FROM argument '${name}' is not declared: add ARG ${name} before the first FROM`, location });
    }
    return value;
  }

  private parseTrigger(text: string, at: SourceLocation): Instruction {
    try {
      return parseInstructionText(text, at, this.recipe.directives.escape, this.recipe.source);
    } catch (error) {
      if (!(error instanceof RecipeError)) throw error;
      throw recipeError(this, error.code, `ONBUILD trigger of the base: ${error.message}`, at, error.hint);
    }
  }

  /** FROM --platform, else the base stage's platform, else the target's. */
  private stagePlatform(stage: Stage, base: StageBase): TargetPlatform {
    const flag = stage.from.flags.find((f) => f.name === 'platform');
    if (!flag) return base.kind === 'stage' ? this.results.get(base.stage)!.planned.platform : this.platform;
    const text = this.expandFromWord(flag.value!, flag.location);
    try {
      return parsePlatform(text);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      throw recipeError(this, 'E_RECIPE_FLAG', error.message, flag.location, error.hint);
    }
  }

  resolveSource(name: string, location: SourceLocation): FileSource {
    const current = this.current!;
    const named = this.options.namedContexts?.[name.toLowerCase()];
    if (named?.kind === 'dir') return { kind: 'named', name: name.toLowerCase() };
    if (named?.kind === 'image') {
      current.images.add(named.ref);
      return { kind: 'image', ref: named.ref };
    }
    const stages = this.recipe.stages;
    const byIndex = /^\d+$/.test(name) ? stages[Number(name)] : undefined;
    if (/^\d+$/.test(name) && !byIndex) {
      throw recipeError(this, 'E_RECIPE_STAGE', `invalid stage index ${name}: the recipe has ${stages.length} stages`, location, `Use an index 0–${stages.length - 1} or a stage name.`);
    }
    const stage = byIndex ?? stages.find((s) => s.name === name.toLowerCase());
    if (!stage) {
      if (!IMAGE_REF.test(name)) {
        const named = stages.flatMap((s) => (s.name ? [s.name] : []));
        throw recipeError(this, 'E_RECIPE_STAGE', `"${name}" is neither a stage nor a valid image reference`, location,
          `Use a stage name${named.length > 0 ? ` (${named.join(', ')})` : ''}, a stage index 0–${stages.length - 1}, or an image reference in lower case.`);
      }
      const near = /^[a-z0-9_-]+$/i.test(name) ? closest(name.toLowerCase(), stages.flatMap((s) => (s.name ? [s.name] : []))) : undefined;
      if (near && !this.discovering) {
        this.warnings.push({ message: `no stage is named "${name}", so it is read as an image: did you mean stage "${near}"?`, location });
      }
      current.images.add(name);
      return { kind: 'image', ref: name };
    }
    this.assertEarlier(current.stage, stage, location);
    current.deps.add(stage.index);
    return { kind: 'stage', stage: stage.index };
  }

  private assertEarlier(current: Stage, used: Stage, location: SourceLocation): void {
    if (used.index < current.index) return;
    const label = (stage: Stage) => `"${stage.name ?? stage.index}"`;
    if (used.index === current.index) {
      throw recipeError(this, 'E_RECIPE_CYCLE', `circular dependency: stage ${label(current)} uses itself`, location, 'Copy from an earlier stage.');
    }
    if (usesStage(used, current)) {
      throw recipeError(this, 'E_RECIPE_CYCLE', `circular dependency between stages ${label(current)} and ${label(used)} (line ${used.from.location.line}): each uses the other`, location, 'Move what both need into a third stage defined before them.');
    }
    throw recipeError(this, 'E_RECIPE_CYCLE', `stage ${label(current)} uses stage ${label(used)}, defined later (line ${used.from.location.line}): a stage can only use stages defined before it`, location, `Move stage ${label(used)} above this one.`);
  }

  private warnUnusedBuildArgs(): void {
    const unused = Object.keys(this.buildArgs).filter((name) => !this.consumed.has(name) && !isProxyArg(name) && !BUILTIN_ARG.test(name));
    if (unused.length > 0) {
      this.warnings.push({ message: `build args given but not consumed by the target: ${unused.sort().join(', ')}` });
    }
  }
}

/** Warnings in recipe order (stages are planned target first); unlocated ones last. */
function byLocation(a: PlanWarning, b: PlanWarning): number {
  const key = (w: PlanWarning) => (w.location ? w.location.line * 1e6 + w.location.column : Number.MAX_SAFE_INTEGER);
  return key(a) - key(b);
}

/** Whether `stage` names `other` as written (FROM, --from=, mount from=), before any expansion. */
function usesStage(stage: Stage, other: Stage): boolean {
  const names = new Set([String(other.index), ...(other.name ? [other.name] : [])]);
  const refers = (word: string | undefined) => word !== undefined && names.has(word.toLowerCase());
  const fromFlags = stage.instructions.flatMap((instruction) =>
    instruction.flags.flatMap((flag) => (flag.name === 'from' ? [flag.value ?? ''] : flag.name === 'mount' ? [/(?:^|,)from=([^,]*)/.exec(flag.value ?? '')?.[1] ?? ''] : [])),
  );
  return refers(stage.from.image) || fromFlags.some(refers);
}
