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
  return instructions.flatMap((instruction) => CHECKS.map((check) => check(instruction)).filter((w): w is RecipeWarning => w !== undefined));
}
