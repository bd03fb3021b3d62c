// RUN → RunStep. The command is not expanded (the shell does that at run time); heredocs
// are turned into the script BuildKit runs; --mount, --network and --security are checked.

import type { RunInstruction } from '../recipe/index.js';
import { listFlag, stringFlag } from '../recipe/index.js';
import { expansionEnv } from './args.js';
import { commandArgv } from './config-steps.js';
import { recipeError, type PlanContext, type StageState } from './context.js';
import { parseMounts } from './mounts.js';
import type { Heredoc, RunStep } from './types.js';

export function planRunStep(ctx: PlanContext, state: StageState, instruction: RunInstruction): RunStep {
  const { command, heredocs } = resolveHeredocs(instruction);
  const argv = commandArgv(command, state.config.shell);
  return {
    kind: 'run',
    location: instruction.location,
    instruction: `RUN ${flagText(instruction)}${instruction.rest}${heredocSummary(instruction)}`,
    createdBy: `RUN ${runCommandString(state, argv)} # buildkit`,
    config: structuredClone(state.config),
    args: state.args.toRecord(),
    command,
    heredocs,
    mounts: parseMounts(ctx, state, listFlag(instruction.flags, 'mount')),
    network: choice(ctx, instruction, 'network', ['default', 'none', 'host'] as const, 'default'),
    security: choice(ctx, instruction, 'security', ['sandbox', 'insecure'] as const, 'sandbox'),
  };
}

/** ` (first line...)` of a lone heredoc, as BuildKit names the step. */
function heredocSummary(instruction: RunInstruction): string {
  if (instruction.heredocs.length !== 1 || !isLoneHeredoc(instruction)) return '';
  const lines = instruction.heredocs[0]!.content.trim().split(/\r?\n/);
  return ` (${lines[0]}${lines.length > 1 ? '...' : ''})`;
}

/** `RUN <<EOF` with nothing else on the line: the body is the script. */
function isLoneHeredoc(instruction: RunInstruction): boolean {
  return instruction.command.form === 'shell' && /^\d*<<-?\S+$/.test(instruction.command.script.trim());
}

function flagText(instruction: RunInstruction): string {
  return instruction.flags.map((flag) => `--${flag.name}${flag.value === null ? '' : `=${flag.value}`} `).join('');
}

function choice<T extends string>(ctx: PlanContext, instruction: RunInstruction, name: string, allowed: readonly T[], fallback: T): T {
  const flag = stringFlag(instruction.flags, name);
  if (!flag) return fallback;
  if (!allowed.includes(flag.value as T)) {
    throw recipeError(ctx, 'E_RECIPE_FLAG', `--${name} must be ${allowed.join(' or ')}, not "${flag.value}"`, flag.location, `Write --${name}=${allowed[allowed.length - 1]}.`);
  }
  return flag.value as T;
}

/**
 * BuildKit's three heredoc cases: `RUN <<EOF` alone runs the content as the script, or, when
 * it starts with `#!`, as a file at /dev/pipes/<name>; anything else hands the shell the
 * command line with the bodies appended, so the shell does the redirection.
 */
function resolveHeredocs(instruction: RunInstruction): { command: RunStep['command']; heredocs: Heredoc[] } {
  const files = instruction.heredocs;
  if (files.length === 0) return { command: instruction.command, heredocs: [] };
  const script = instruction.command.form === 'shell' ? instruction.command.script : '';
  const only = files[0]!;
  if (files.length === 1 && isLoneHeredoc(instruction)) {
    if (only.content.startsWith('#!')) {
      return { command: { form: 'shell', script: `/dev/pipes/${only.name}` }, heredocs: [toHeredoc(only)] };
    }
    return { command: { form: 'shell', script: only.content }, heredocs: [] };
  }
  const bodies = files.map((file) => `\n${file.content}${file.name}`).join('');
  return { command: { form: 'shell', script: script + bodies }, heredocs: [] };
}

function toHeredoc(source: RunInstruction['heredocs'][number]): Heredoc {
  return { name: source.name, content: source.content, quoted: source.quoted, chomp: source.chomp };
}

/** `|2 A=1 B= /bin/sh -c make`: declared args (ENV winning) prefixed, as BuildKit's history has it. */
function runCommandString(state: StageState, argv: string[]): string {
  const env = expansionEnv(state.args, state.config.env);
  const args = state.args.declared().map(([name]) => `${name}=${env.get(name) ?? ''}`);
  const prefix = args.length > 0 ? [`|${args.length}`, ...args] : [];
  return [...prefix, ...argv].join(' ');
}
