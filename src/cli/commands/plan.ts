// `tsbuild plan`: parse and plan a Dockerfile without running anything, and print the
// stages and steps the build would run, values expanded. Base images are read from the store
// when it has them (never pulled, and no store is created); the plan warns about the others,
// whose configs (ENV, WORKDIR …) it cannot show.

import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { BuildError, UsageError } from '../../errors.js';
import { isGitUrl, redactUrl } from '../../lib/git-url.js';
import {
  Store, baseImageInfo, baseImageRefs, defaultStoreRoot, findBaseImages, parseRecipe, planBuild,
  type BaseImageInfo, type BuildGraph, type PlanOptions, type Recipe,
} from '../../index.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { STDIN_ARG } from '../argv.js';
import { readAllText } from '../stdin.js';
import { formatPlanText } from '../plan-output.js';
import type { CommandSpec } from './types.js';

interface PlanArgs {
  context: string;
  file?: string;
  target?: string;
  buildArg: string[];
  platform?: string;
  format: 'text' | 'json';
}

export const planCommand: CommandSpec<PlanArgs> = {
  command: 'plan <context>',
  describe: 'Show the stages and steps a build would run, values expanded, without running anything',
  examples: [
    ['tsbuild plan .', 'plan CONTEXT/Dockerfile for this host'],
    ['tsbuild plan -f ci.Dockerfile --target test --build-arg GO_VERSION=1.22 .', 'plan the test stage with a build arg'],
    ['tsbuild plan --format json --platform linux/arm64 . | jq .stages', 'the plan as JSON, for another platform'],
  ],
  builder: (y) =>
    y
      .positional('context', { type: 'string', describe: 'The build context directory' })
      .option('file', { alias: 'f', type: 'string', describe: 'The Dockerfile (default: CONTEXT/Dockerfile); - reads it from stdin' })
      .option('target', { type: 'string', describe: 'Plan this stage (name or index) instead of the last' })
      .option('build-arg', { type: 'string', array: true, nargs: 1, default: [], describe: 'Set a build arg K=V (K alone takes it from the environment)' })
      .option('platform', { type: 'string', describe: 'Target platform os/arch[/variant] (default: this host)' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output format' }),
  async handler(args: PlanArgs & GlobalOptions, ctx: CliContext) {
    const graph = await planFromArgs(args, ctx);
    for (const warning of graph.warnings) {
      const where = warning.location ? `${warning.location.file}:${warning.location.line}:${warning.location.column}: ` : '';
      ctx.stderr.write(`warning: ${where}${warning.message}\n`);
    }
    const { source: _source, ...shown } = graph;
    ctx.stdout.write(args.format === 'json' ? JSON.stringify(shown, null, 2) + '\n' : formatPlanText(graph));
    return 0;
  },
};

async function planFromArgs(args: PlanArgs & GlobalOptions, ctx: CliContext): Promise<BuildGraph> {
  if (isGitUrl(args.context)) {
    throw new UsageError(`tsbuild plan reads a local directory, not a git repository (${redactUrl(args.context)})`, {
      hint: 'tsbuild build --dry-run URL plans a git context: it checks the repository out, prints the plan and builds nothing',
    });
  }
  const contextDir = resolve(ctx.cwd, args.context);
  const info = await stat(contextDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UsageError(`build context ${contextDir} is not a directory`, { hint: 'Pass the directory holding your sources, e.g. tsbuild plan .' });
  }
  const recipe = args.file === STDIN_ARG ? parseRecipe(await readAllText(ctx.stdin), 'stdin') : await readRecipeFile(contextDir, args.file, ctx.cwd);
  const options: PlanOptions = {
    ...(args.target !== undefined ? { target: args.target } : {}),
    ...(args.platform !== undefined ? { platform: args.platform } : {}),
    buildArgs: buildArgValues(args.buildArg, ctx.env),
  };
  const baseImages = await storedBaseImages(args.root ?? defaultStoreRoot(ctx.env), recipe, options);
  return planBuild(recipe, { ...options, baseImages });
}

async function readRecipeFile(contextDir: string, given: string | undefined, cwd: string): Promise<Recipe> {
  const file = given === undefined ? resolve(contextDir, 'Dockerfile') : resolve(cwd, given);
  const source = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new BuildError('E_RECIPE_NOT_FOUND', `cannot read the Dockerfile ${file}`, {
      cause,
      hint: given === undefined ? 'Put a Dockerfile in the context, or name one with -f.' : 'Check the path given to -f.',
    });
  });
  const shown = relative(cwd, file);
  return parseRecipe(source, shown.startsWith('..') || isAbsolute(shown) ? file : shown);
}

/** The configs of the base images the store at `root` has; none when there is no store there. */
async function storedBaseImages(root: string, recipe: Recipe, options: PlanOptions): Promise<Record<string, BaseImageInfo>> {
  if (!existsSync(join(root, 'oci-layout'))) return {};
  const store = await Store.open(root);
  try {
    const { found } = await findBaseImages(store, baseImageRefs(recipe, options));
    return Object.fromEntries([...found].map(([ref, image]) => [ref, baseImageInfo(image)]));
  } finally {
    await store.close();
  }
}

/** `K=V`, or `K` alone: the value comes from the environment, and an unset K is skipped, as docker does. */
export function buildArgValues(values: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals === 0) throw new UsageError(`invalid --build-arg "${value}": the name is empty`, { hint: 'Write --build-arg NAME=VALUE.' });
    if (equals > 0) result[value.slice(0, equals)] = value.slice(equals + 1);
    else if (env[value] !== undefined) result[value] = env[value]!;
  }
  return result;
}
