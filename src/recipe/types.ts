// The Recipe: a Dockerfile as plain data. Words are kept as written (quotes, `$vars`), since
// what they expand to depends on build args and base images that only plan/ knows.

import type { SourceLocation } from '../errors.js';

export type EscapeChar = '\\' | '`';

export interface Directives {
  syntax?: string;
  escape: EscapeChar;
  check?: string;
}

/** `--name=value` (`value` null for a bare `--name`), quotes already removed as Docker does. */
export interface Flag {
  name: string;
  value: string | null;
  location: SourceLocation;
}

export interface HeredocSource {
  name: string;
  /** Content lines joined with `\n`, ending in `\n`; leading tabs removed for `<<-`. */
  content: string;
  quoted: boolean;
  chomp: boolean;
  location: SourceLocation;
}

/** Exec form is a JSON array; anything else is shell form, kept verbatim. */
export type CommandSource = { form: 'shell'; script: string } | { form: 'exec'; argv: string[] };

export interface KeyValue {
  key: string;
  value: string;
  location: SourceLocation;
}

export interface ArgDeclaration {
  name: string;
  /** Unexpanded default, absent for `ARG name`. */
  defaultValue?: string;
  location: SourceLocation;
}

interface InstructionBase {
  /** Where the keyword is. */
  location: SourceLocation;
  /** Where the arguments (after the flags) start: expansion errors point here. */
  argsLocation: SourceLocation;
  /** The whole instruction as written, continuation lines and heredocs included. */
  original: string;
  /** The arguments after the keyword and flags, continuations joined. */
  rest: string;
  flags: Flag[];
}

export interface FromInstruction extends InstructionBase {
  keyword: 'FROM';
  image: string;
  /** Lower-cased, as Docker treats stage names case-insensitively. */
  stageName?: string;
}

export interface RunInstruction extends InstructionBase {
  keyword: 'RUN';
  command: CommandSource;
  heredocs: HeredocSource[];
}

export interface CommandInstruction extends InstructionBase {
  keyword: 'CMD' | 'ENTRYPOINT';
  command: CommandSource;
}

export interface ShellInstruction extends InstructionBase {
  keyword: 'SHELL';
  argv: string[];
}

export interface KeyValueInstruction extends InstructionBase {
  keyword: 'ENV' | 'LABEL';
  pairs: KeyValue[];
  /** `ENV key value` without `=`: accepted, but deprecated. */
  legacyForm: boolean;
}

export interface ArgInstruction extends InstructionBase {
  keyword: 'ARG';
  args: ArgDeclaration[];
}

export interface ListInstruction extends InstructionBase {
  keyword: 'EXPOSE' | 'VOLUME';
  items: string[];
}

export interface ValueInstruction extends InstructionBase {
  keyword: 'USER' | 'WORKDIR' | 'STOPSIGNAL' | 'MAINTAINER';
  value: string;
}

export interface CopyInstruction extends InstructionBase {
  keyword: 'COPY' | 'ADD';
  sources: string[];
  dest: string;
  heredocs: HeredocSource[];
}

export interface HealthcheckInstruction extends InstructionBase {
  keyword: 'HEALTHCHECK';
  /** null for `HEALTHCHECK NONE`. */
  command: CommandSource | null;
}

export interface OnbuildInstruction extends InstructionBase {
  keyword: 'ONBUILD';
  /** The trigger text as recorded in the image config. */
  expression: string;
  trigger: Instruction;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CommandInstruction
  | ShellInstruction
  | KeyValueInstruction
  | ArgInstruction
  | ListInstruction
  | ValueInstruction
  | CopyInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

export type Keyword = Instruction['keyword'];

export interface Stage {
  index: number;
  name?: string;
  from: FromInstruction;
  /** Everything after FROM up to the next FROM. */
  instructions: Instruction[];
}

/** Accepted, but deprecated or doubtful: plan passes these on as build warnings. */
export interface RecipeWarning {
  message: string;
  location: SourceLocation;
  /** The BuildKit build-check rule it corresponds to, for `# check=skip=…`. */
  rule?: string;
}

export interface Recipe {
  file: string;
  source: string;
  directives: Directives;
  warnings: RecipeWarning[];
  /** ARGs before the first FROM: visible in FROM lines, and in stages that redeclare them. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
}
