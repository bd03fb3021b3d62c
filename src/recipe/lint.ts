// Style checks on the recipe as written, named after BuildKit's build checks so that
// `# check=skip=<Rule>` means the same here. Each finding is a warning; plan turns them into
// errors when `# check=error=true` asks for it.

import type { Instruction, RecipeWarning } from './types.js';

type Finding = (instruction: Instruction) => RecipeWarning | undefined;

const CHECKS: Finding[] = [
  (instruction) =>
    instruction.keyword === 'MAINTAINER'
      ? { rule: 'MaintainerDeprecated', message: 'MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors="…" instead', location: instruction.location }
      : undefined,
  (instruction) =>
    (instruction.keyword === 'ENV' || instruction.keyword === 'LABEL') && instruction.legacyForm
      ? {
          rule: 'LegacyKeyValueFormat',
          message: `"${instruction.keyword} key=value" should be used instead of the legacy "${instruction.keyword} key value" form`,
          location: instruction.location,
        }
      : undefined,
  (instruction) =>
    instruction.keyword === 'FROM' && (instruction.stageName === 'scratch' || instruction.stageName === 'context')
      ? { rule: 'ReservedStageName', message: `"${instruction.stageName}" is reserved and should not be used as a stage name`, location: instruction.argsLocation }
      : undefined,
  (instruction) => {
    if (instruction.keyword !== 'FROM' || !instruction.stageName) return undefined;
    const written = /\S+\s+\S+\s+(\S+)\s*$/.exec(instruction.rest)?.[1] ?? '';
    return written !== written.toLowerCase()
      ? { rule: 'StageNameCasing', message: `stage name "${written}" should be lower case`, location: instruction.argsLocation }
      : undefined;
  },
  (instruction) => {
    if (instruction.keyword !== 'FROM' || !instruction.stageName) return undefined;
    const keyword = /^\S+/.exec(instruction.original.trimStart())![0];
    const as = /\s(as)\s+\S+\s*$/i.exec(instruction.rest)?.[1] ?? 'AS';
    const upper = (word: string) => word === word.toUpperCase();
    return upper(keyword) !== upper(as)
      ? { rule: 'FromAsCasing', message: `"${as}" and "${keyword}" keywords' casing do not match`, location: instruction.location }
      : undefined;
  },
];

export function lintInstructions(instructions: readonly Instruction[]): RecipeWarning[] {
  const single = instructions.flatMap((instruction) => CHECKS.map((check) => check(instruction)).filter((w): w is RecipeWarning => w !== undefined));
  return [...single, ...instructions.flatMap(secretNames), ...repeatedInstructions(instructions)];
}

// BuildKit's pattern: a secret-like word as a whole `_`-separated part of the name, unless
// `public` is one too.
const SECRET_NAME = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const PUBLIC_NAME = /(?:_|^)public(?:_|$)/i;

/** ARG and ENV values end up in the image config or history: secrets belong in secret mounts. */
function secretNames(instruction: Instruction): RecipeWarning[] {
  const names = instruction.keyword === 'ARG' ? instruction.args.map((arg) => ({ name: arg.name, location: arg.location }))
    : instruction.keyword === 'ENV' ? instruction.pairs.map((pair) => ({ name: pair.key, location: pair.location }))
    : [];
  return names
    .filter(({ name }) => SECRET_NAME.test(name) && !PUBLIC_NAME.test(name))
    .map(({ name, location }) => ({
      rule: 'SecretsUsedInArgOrEnv',
      message: `do not use ARG or ENV instructions for sensitive data (${instruction.keyword} "${name}"): use RUN --mount=type=secret`,
      location,
    }));
}

const ONCE_PER_STAGE = new Set(['CMD', 'ENTRYPOINT', 'HEALTHCHECK']);

/** A second CMD, ENTRYPOINT or HEALTHCHECK in a stage silently replaces the first. */
function repeatedInstructions(instructions: readonly Instruction[]): RecipeWarning[] {
  const warnings: RecipeWarning[] = [];
  let seen = new Map<string, Instruction>();
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') seen = new Map();
    if (!ONCE_PER_STAGE.has(instruction.keyword)) continue;
    const earlier = seen.get(instruction.keyword);
    if (earlier) {
      warnings.push({
        rule: 'MultipleInstructionsDisallowed',
        message: `multiple ${instruction.keyword} instructions in one stage: only the last one (line ${instruction.location.line}) is used`,
        location: earlier.location,
      });
    }
    seen.set(instruction.keyword, instruction);
  }
  return warnings;
}
