// Recipe text → Recipe. dockerfile-ast finds the directives and where each instruction
// starts (its positions are 0-based LSP positions: converted to 1-based here, once); the
// logical-line reader, flag extractor and heredoc reader of this module do the rest, since
// dockerfile-ast keeps neither heredoc delimiters' quoting nor flag quoting as Docker does.

import { DockerfileParser } from 'dockerfile-ast';
import { RecipeError } from '../errors.js';
import { readHeredocBodies } from './heredoc.js';
import { parseInstruction, type InstructionContext } from './instructions.js';
import { readLogicalLine, type LogicalLine } from './logical-line.js';
import type { ArgInstruction, Directives, EscapeChar, FromInstruction, Instruction, Recipe, RecipeWarning, Stage } from './types.js';

export function parseRecipe(source: string, file: string): Recipe {
  const ast = DockerfileParser.parse(source);
  const directives = readDirectives(ast.getDirectives(), file, source);
  const lines = source.split('\n').map((line) => line.replace(/\r$/, ''));
  const warnings: RecipeWarning[] = [];
  const instructions = readInstructions(ast, lines, { file, source, escape: directives.escape }, warnings);
  warnings.push(...syntaxWarnings(directives, ast, file), ...deprecationWarnings(instructions));
  return { file, source, directives, warnings, ...groupStages(instructions, file, source) };
}

/**
 * Parses one instruction given as text, e.g. an ONBUILD trigger of a base image. Every
 * position in it is reported at `at`, the place in the recipe that brought it in.
 */
export function parseInstructionText(text: string, at: { file: string; line: number; column: number }, escape: EscapeChar, source: string): Instruction {
  const logical: LogicalLine = {
    text,
    positions: Array.from({ length: text.length + 1 }, () => ({ line: at.line, column: at.column })),
    nextLine: 0,
    blankLines: [],
  };
  const keywordStart = text.length - text.trimStart().length;
  return parseInstruction({ file: at.file, source, escape }, logical, keywordStart, text);
}

type Ast = ReturnType<typeof DockerfileParser.parse>;

function readDirectives(found: ReturnType<Ast['getDirectives']>, file: string, source: string): Directives {
  const directives: Directives = { escape: '\\' };
  for (const directive of found) {
    const name = directive.getName().toLowerCase();
    const value = directive.getValue();
    if (name === 'escape') {
      if (value !== '\\' && value !== '`') {
        const start = directive.getRange().start;
        throw new RecipeError('E_RECIPE_DIRECTIVE', `invalid escape token '${value}' does not match ` + '` or \\', { file, line: start.line + 1, column: start.character + 1 }, {
          source,
          hint: 'Write # escape=\\ or # escape=`.',
        });
      }
      directives.escape = value;
    } else if (name === 'syntax' || name === 'check') {
      directives[name] = value;
    }
  }
  return directives;
}

function readInstructions(ast: Ast, lines: string[], base: Omit<InstructionContext, 'readHeredocs'>, warnings: RecipeWarning[]): Instruction[] {
  const instructions: Instruction[] = [];
  let nextFree = 0;
  for (const node of ast.getInstructions()) {
    const start = node.getInstructionRange().start;
    // dockerfile-ast may see instructions inside heredoc bodies we already consumed.
    if (start.line < nextFree) continue;
    assertOnlyTrivia(lines, nextFree, start.line, base);
    const logical = readLogicalLine(lines, start.line, base.escape);
    for (const line of logical.blankLines) {
      warnings.push({
        message: 'empty continuation line: Docker will stop accepting these; remove it or end the instruction above',
        location: { file: base.file, line, column: 1 },
      });
    }
    let end = logical.nextLine;
    const ctx: InstructionContext = {
      ...base,
      readHeredocs: (markers) => {
        const bodies = readHeredocBodies(lines, logical, markers, base.file, base.source);
        end = bodies.nextLine;
        return bodies.heredocs;
      },
    };
    const keywordStart = logical.positions.findIndex((p) => p.line === start.line + 1 && p.column === start.character + 1);
    const instruction = parseInstruction(ctx, logical, Math.max(keywordStart, 0), lines.slice(start.line, end).join('\n'));
    instruction.location.endLine = end;
    instructions.push(instruction);
    nextFree = end;
  }
  assertOnlyTrivia(lines, nextFree, lines.length, base);
  return instructions;
}

/** Nothing but comments and blank lines may sit between instructions; never skip text silently. */
function assertOnlyTrivia(lines: string[], from: number, to: number, base: Omit<InstructionContext, 'readHeredocs'>): void {
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    if (/^\s*(#.*)?$/.test(line)) continue;
    throw new RecipeError('E_RECIPE_SYNTAX', `cannot parse this line: ${JSON.stringify(line.trim())}`, { file: base.file, line: i + 1, column: line.search(/\S/) + 1 }, {
      source: base.source,
      hint: 'Each line must start an instruction, continue one, or be a comment.',
    });
  }
}

function groupStages(instructions: Instruction[], file: string, source: string): { globalArgs: ArgInstruction[]; stages: Stage[] } {
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      stages.push({ index: stages.length, from: instruction, instructions: [], ...(instruction.stageName ? { name: instruction.stageName } : {}) });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push(instruction);
    } else if (instruction.keyword === 'ARG') {
      globalArgs.push(instruction);
    } else {
      throw new RecipeError('E_RECIPE_NO_FROM', `${instruction.keyword} before the first FROM: only ARG may come before FROM`, instruction.location, {
        source,
        hint: 'Start the recipe with FROM image (ARGs for FROM may come first).',
      });
    }
  }
  if (stages.length === 0) {
    throw new RecipeError('E_RECIPE_NO_FROM', 'the recipe has no FROM instruction', { file, line: 1, column: 1 }, {
      source,
      hint: 'Start the recipe with FROM image, e.g. FROM busybox or FROM scratch.',
    });
  }
  assertUniqueStageNames(stages, source);
  return { globalArgs, stages };
}

function assertUniqueStageNames(stages: Stage[], source: string): void {
  const seen = new Map<string, FromInstruction>();
  for (const stage of stages) {
    if (!stage.name) continue;
    const earlier = seen.get(stage.name);
    if (earlier) {
      throw new RecipeError('E_RECIPE_STAGE', `duplicate stage name "${stage.name}" (first used at line ${earlier.location.line})`, stage.from.location, {
        source,
        hint: 'Give each stage its own name.',
      });
    }
    seen.set(stage.name, stage.from);
  }
}

/** A `# syntax=` naming another frontend is not followed: tsbuild has its own. */
function syntaxWarnings(directives: Directives, ast: Ast, file: string): RecipeWarning[] {
  const syntax = directives.syntax;
  if (syntax === undefined || /^(docker\.io\/)?docker\/dockerfile(-upstream)?(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/.test(syntax)) return [];
  const directive = ast.getDirectives().find((d) => d.getName().toLowerCase() === 'syntax')!;
  const start = directive.getRange().start;
  return [{
    message: `# syntax=${syntax} is not followed: tsbuild parses the Dockerfile with its own frontend (Dockerfile syntax 1.x)`,
    location: { file, line: start.line + 1, column: start.character + 1 },
  }];
}

function deprecationWarnings(instructions: Instruction[]): RecipeWarning[] {
  return instructions
    .filter((instruction) => instruction.keyword === 'MAINTAINER')
    .map((instruction) => ({
      message: 'MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors="…" instead',
      location: instruction.location,
    }));
}
