// Recipe text → Recipe. dockerfile-ast reads the parser directives (its 0-based LSP
// positions are converted to 1-based here, once). Instruction boundaries come from this
// module's own line scanner, because dockerfile-ast 0.7.1 gets heredocs wrong where BuildKit
// does not: with a delimiter quoted in the middle (`<<E"O"F`) it never finds the end and
// swallows the rest of the file, and with a descriptor prefix (`3<<EOF`) it reads the body
// lines as instructions (test/recipe/parse.test.ts has both).

import { DockerfileParser } from 'dockerfile-ast';
import { RecipeError } from '../errors.js';
import { readHeredocBodies } from './heredoc.js';
import { lintInstructions } from './lint.js';
import { parseInstruction, type InstructionContext } from './instructions.js';
import { readLogicalLine, type LogicalLine } from './logical-line.js';
import type { ArgInstruction, Directives, EscapeChar, FromInstruction, Instruction, Recipe, RecipeWarning, Stage } from './types.js';

export function parseRecipe(source: string, file: string): Recipe {
  const lines = source.split('\n').map((line) => line.replace(/\r$/, ''));
  // Directives can only stand in the leading comments: dockerfile-ast need not read further.
  const header = lines.slice(0, Math.max(0, lines.findIndex((line) => !TRIVIA.test(line)))).join('\n');
  const ast = DockerfileParser.parse(header);
  const directives = readDirectives(ast.getDirectives(), file, source);
  const warnings: RecipeWarning[] = [];
  const instructions = readInstructions(lines, { file, source, escape: directives.escape }, warnings);
  warnings.push(...syntaxWarnings(directives, ast, file), ...lintInstructions(instructions));
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
  const seen = new Set<string>();
  for (const directive of found) {
    const name = directive.getName().toLowerCase();
    const value = directive.getValue();
    const start = directive.getRange().start;
    const fail = (message: string, hint: string): never => {
      throw new RecipeError('E_RECIPE_DIRECTIVE', message, { file, line: start.line + 1, column: start.character + 1 }, { source, hint });
    };
    if (seen.has(name)) fail(`only one ${name} parser directive can be used`, 'Remove the repeated directive.');
    seen.add(name);
    if (name === 'escape') {
      if (value !== '\\' && value !== '`') return fail(`invalid escape token '${value}' does not match ` + '` or \\', 'Write # escape=\\ or # escape=`.');
      directives.escape = value;
    } else if (name === 'syntax' || name === 'check') {
      directives[name] = value;
    }
  }
  return directives;
}

function readInstructions(lines: string[], base: Omit<InstructionContext, 'readHeredocs'>, warnings: RecipeWarning[]): Instruction[] {
  const instructions: Instruction[] = [];
  let cursor = 0;
  for (;;) {
    // Between instructions there are only comments and blank lines.
    while (cursor < lines.length && TRIVIA.test(lines[cursor]!)) cursor++;
    if (cursor >= lines.length) return instructions;
    const { instruction, end } = readInstructionAt(lines, cursor, base, warnings);
    if (instruction) instructions.push(instruction);
    cursor = end;
  }
}

const TRIVIA = /^\s*(#.*)?$/;

/**
 * The instruction whose keyword is the first word of `lines[start]`, and the line after it;
 * none when the lines hold only continuation characters, which Docker drops too.
 */
function readInstructionAt(lines: string[], start: number, base: Omit<InstructionContext, 'readHeredocs'>, warnings: RecipeWarning[]): { instruction?: Instruction; end: number } {
  const logical = readLogicalLine(lines, start, base.escape);
  const keywordStart = logical.text.search(/\S/);
  if (keywordStart < 0) return { end: logical.nextLine };
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
  const instruction = parseInstruction(ctx, logical, keywordStart, lines.slice(start, end).join('\n'));
  instruction.location.endLine = end;
  return { instruction, end };
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
