// One logical line → one typed instruction. Syntax only: nothing is expanded here.

import { RecipeError, type SourceLocation } from '../errors.js';
import { checkFlags, extractFlags, type FlagSpec } from './flags.js';
import { findHeredocMarkers } from './heredoc.js';
import { closest } from './suggest.js';
import { positionAt, type LogicalLine } from './logical-line.js';
import type {
  ArgDeclaration,
  CommandSource,
  Flag,
  HeredocSource,
  Instruction,
  Keyword,
  KeyValue,
} from './types.js';
import { JsonArrayError, parseJsonArray, splitQuotedWords, splitWhitespace, type RawWord } from './words.js';

const FLAGS: Record<Keyword, FlagSpec> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'list', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', exclude: 'list', parents: 'bool' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', exclude: 'list', checksum: 'string', 'keep-git-dir': 'bool' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
  CMD: {},
  ENTRYPOINT: {},
  SHELL: {},
  ENV: {},
  LABEL: {},
  ARG: {},
  EXPOSE: {},
  VOLUME: {},
  USER: {},
  WORKDIR: {},
  STOPSIGNAL: {},
  MAINTAINER: {},
  ONBUILD: {},
};

export const KEYWORDS = new Set<string>(Object.keys(FLAGS));

const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const STAGE_NAME = /^[a-z][a-z0-9._-]*$/i;

export interface InstructionContext {
  file: string;
  source: string;
  escape: string;
  /** Reads heredoc bodies after the logical line; absent where heredocs cannot appear. */
  readHeredocs?: (markers: ReturnType<typeof findHeredocMarkers>) => HeredocSource[];
}

/** Parses the instruction whose keyword starts at `keywordStart` of `logical`. */
export function parseInstruction(ctx: InstructionContext, logical: LogicalLine, keywordStart: number, original: string): Instruction {
  const text = logical.text;
  const keywordMatch = /^\S+/.exec(text.slice(keywordStart))!;
  const keyword = keywordMatch[0].toUpperCase();
  const location = locate(ctx, logical, keywordStart);
  if (!KEYWORDS.has(keyword)) {
    const near = closest(keyword, [...KEYWORDS]);
    throw new RecipeError('E_RECIPE_INSTRUCTION', `unknown instruction: ${keywordMatch[0]}`, location, {
      source: ctx.source,
      hint: near ? `Did you mean ${near}?` : `Dockerfile instructions are ${[...KEYWORDS].sort().join(', ')}.`,
    });
  }
  const { flags, restStart } = extractFlags(logical, keywordStart + keywordMatch[0].length, ctx.file, ctx.source);
  checkFlags(keyword, flags, FLAGS[keyword as Keyword], ctx.source);
  const rest = text.slice(restStart).trim();
  const parts: Parts = { ctx, logical, restStart, location, flags, rest, original };
  try {
    return parseBody(parts, keyword as Keyword);
  } catch (error) {
    if (!(error instanceof JsonArrayError)) throw error;
    return fail(parts, error.message, `Write ${keyword} ["executable", "arg"] with every element in double quotes.`, restStart);
  }
}

function parseBody(parts: Parts, keyword: Keyword): Instruction {
  const rest = parts.rest;
  switch (keyword) {
    case 'FROM':
      return parseFrom(parts);
    case 'RUN':
      return { keyword: 'RUN', ...base(parts), ...parseRunBody(parts) };
    case 'CMD':
    case 'ENTRYPOINT':
      return { keyword: keyword as 'CMD' | 'ENTRYPOINT', ...base(parts), command: parseCommand(parts) };
    case 'SHELL':
      return { keyword: 'SHELL', ...base(parts), argv: requireJson(parts, 'SHELL') };
    case 'ENV':
    case 'LABEL':
      return { keyword: keyword as 'ENV' | 'LABEL', ...base(parts), ...parseKeyValues(parts, keyword) };
    case 'ARG':
      return { keyword: 'ARG', ...base(parts), args: parseArgs(parts) };
    case 'EXPOSE':
      return { keyword: 'EXPOSE', ...base(parts), items: requireWords(parts, 'EXPOSE', splitWhitespace(rest).map((w) => w.text)) };
    case 'VOLUME':
      return { keyword: 'VOLUME', ...base(parts), items: requireWords(parts, 'VOLUME', parseJsonArray(rest) ?? splitWhitespace(rest).map((w) => w.text)) };
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      requireWords(parts, keyword, rest ? [rest] : []);
      return { keyword: keyword as 'USER', ...base(parts), value: rest };
    case 'COPY':
    case 'ADD':
      return { keyword: keyword as 'COPY' | 'ADD', ...base(parts), ...parseCopy(parts, keyword) };
    case 'HEALTHCHECK':
      return { keyword: 'HEALTHCHECK', ...base(parts), command: parseHealthcheck(parts) };
    case 'ONBUILD':
      return parseOnbuild(parts);
  }
}

interface Parts {
  ctx: InstructionContext;
  logical: LogicalLine;
  restStart: number;
  location: SourceLocation;
  flags: Flag[];
  rest: string;
  original: string;
}

function base(parts: Parts) {
  const argsLocation = locate(parts.ctx, parts.logical, parts.restStart);
  return { location: parts.location, argsLocation, original: parts.original, rest: parts.rest, flags: parts.flags };
}

function locate(ctx: InstructionContext, logical: LogicalLine, index: number): SourceLocation {
  return { file: ctx.file, ...positionAt(logical, index) };
}

function fail(parts: Parts, message: string, hint: string, at?: number): never {
  const location = at === undefined ? parts.location : locate(parts.ctx, parts.logical, at);
  throw new RecipeError('E_RECIPE_SYNTAX', message, location, { source: parts.ctx.source, hint });
}

function requireWords(parts: Parts, keyword: string, words: string[]): string[] {
  if (words.length === 0) fail(parts, `${keyword} requires at least one argument`, `See the Dockerfile reference for ${keyword}.`);
  return words;
}

function requireJson(parts: Parts, keyword: string): string[] {
  const argv = parseJsonArray(parts.rest);
  if (!argv || argv.length === 0) {
    fail(parts, `${keyword} requires the arguments to be in JSON form`, `Write ${keyword} ["executable", "param1"].`);
  }
  return argv;
}

function parseFrom(parts: Parts): Instruction {
  const words = splitWhitespace(parts.rest);
  const hint = 'Write FROM image [AS name].';
  if (words.length !== 1 && words.length !== 3) fail(parts, 'FROM requires either one or three arguments', hint);
  if (words.length === 3 && words[1]!.text.toLowerCase() !== 'as') fail(parts, `expected AS, found "${words[1]!.text}"`, hint);
  const stageName = words[2]?.text.toLowerCase();
  if (stageName !== undefined && !STAGE_NAME.test(stageName)) {
    fail(parts, `invalid name for build stage: "${words[2]!.text}", name can't start with a number or contain symbols`, 'Use letters, digits, ".", "_" and "-", starting with a letter.');
  }
  return { keyword: 'FROM', ...base(parts), image: words[0]!.text, ...(stageName ? { stageName } : {}) };
}

function parseCommand(parts: Parts): CommandSource {
  const argv = parseJsonArray(parts.rest);
  if (argv) return { form: 'exec', argv };
  return { form: 'shell', script: parts.rest };
}

function restMarkers(parts: Parts) {
  return findHeredocMarkers(parts.logical.text, parts.restStart);
}

function readHeredocs(parts: Parts, keyword: string): HeredocSource[] {
  const markers = HEREDOC_KEYWORDS.has(keyword) ? restMarkers(parts) : [];
  if (markers.length === 0) return [];
  if (!parts.ctx.readHeredocs) fail(parts, `heredocs are not supported in ONBUILD triggers`, 'Move the heredoc into a RUN or COPY of the stage.');
  return parts.ctx.readHeredocs(markers);
}

function parseRunBody(parts: Parts): { command: CommandSource; heredocs: HeredocSource[] } {
  const heredocs = parseJsonArray(parts.rest) ? [] : readHeredocs(parts, 'RUN');
  if (!parts.rest) fail(parts, 'RUN requires at least one argument', 'Write RUN command or RUN ["executable", "arg"].');
  return { command: heredocs.length > 0 ? { form: 'shell', script: parts.rest } : parseCommand(parts), heredocs };
}

function parseCopy(parts: Parts, keyword: string): { sources: string[]; dest: string; heredocs: HeredocSource[] } {
  const json = parseJsonArray(parts.rest);
  const heredocs = json ? [] : readHeredocs(parts, keyword);
  // Heredoc markers name inline sources; they are not paths in the context.
  const words = json ?? splitWhitespace(parts.rest)
    .map((w) => w.text)
    .filter((word) => heredocs.length === 0 || !word.startsWith('<<'));
  if (words.length + heredocs.length < 2) {
    fail(parts, `${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`, `Write ${keyword} source… dest.`);
  }
  return { sources: words.slice(0, -1), dest: words[words.length - 1]!, heredocs };
}

function parseKeyValues(parts: Parts, keyword: string): { pairs: KeyValue[]; legacyForm: boolean } {
  const words = splitQuotedWords(parts.rest, parts.ctx.escape);
  if (words.length === 0) fail(parts, `${keyword} requires at least one argument`, `Write ${keyword} key=value.`);
  if (!words[0]!.text.includes('=')) {
    const match = /^(\S+)\s+([\s\S]*)$/.exec(parts.rest);
    if (!match) fail(parts, `${keyword} must have two arguments`, `Write ${keyword} key=value.`);
    return { pairs: [{ key: match[1]!, value: match[2]!, location: locate(parts.ctx, parts.logical, parts.restStart) }], legacyForm: true };
  }
  return { pairs: words.map((word) => splitPair(parts, word, keyword)), legacyForm: false };
}

function splitPair(parts: Parts, word: RawWord, keyword: string): KeyValue {
  const equals = word.text.indexOf('=');
  const at = parts.restStart + word.offset;
  if (equals < 0) {
    fail(parts, `syntax error - can't find = in "${word.text}". Must be of the form: name=value`, `Write ${keyword} name=value.`, at);
  }
  if (equals === 0) fail(parts, `${keyword} names can not be blank`, `Write ${keyword} name=value.`, at);
  return { key: word.text.slice(0, equals), value: word.text.slice(equals + 1), location: locate(parts.ctx, parts.logical, at) };
}

function parseArgs(parts: Parts): ArgDeclaration[] {
  const words = splitQuotedWords(parts.rest, parts.ctx.escape);
  if (words.length === 0) fail(parts, 'ARG requires at least one argument', 'Write ARG name or ARG name=default.');
  return words.map((word) => {
    const equals = word.text.indexOf('=');
    const at = parts.restStart + word.offset;
    if (equals === 0) fail(parts, 'ARG names can not be blank', 'Write ARG name=default.', at);
    const location = locate(parts.ctx, parts.logical, at);
    return equals < 0 ? { name: word.text, location } : { name: word.text.slice(0, equals), defaultValue: word.text.slice(equals + 1), location };
  });
}

function parseHealthcheck(parts: Parts): CommandSource | null {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(parts.rest);
  const type = match?.[1]?.toUpperCase();
  if (type === 'NONE') {
    if (match![2] || parts.flags.length > 0) fail(parts, 'HEALTHCHECK NONE takes no arguments', 'Write HEALTHCHECK NONE alone.');
    return null;
  }
  if (type !== 'CMD') fail(parts, `unknown type ${match?.[1] ?? '(none)'} in HEALTHCHECK (try CMD)`, 'Write HEALTHCHECK [options] CMD command, or HEALTHCHECK NONE.');
  const body = match![2]!;
  if (!body) fail(parts, 'missing command after HEALTHCHECK CMD', 'Write HEALTHCHECK CMD command.');
  const argv = parseJsonArray(body);
  return argv ? { form: 'exec', argv } : { form: 'shell', script: body };
}

function parseOnbuild(parts: Parts): Instruction {
  if (!parts.rest) fail(parts, 'ONBUILD requires at least one argument', 'Write ONBUILD INSTRUCTION args.');
  const triggerStart = parts.restStart;
  const triggerKeyword = /^\S+/.exec(parts.rest)![0].toUpperCase();
  if (triggerKeyword === 'ONBUILD') fail(parts, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 'Use one ONBUILD.', triggerStart);
  if (triggerKeyword === 'FROM' || triggerKeyword === 'MAINTAINER') {
    fail(parts, `${triggerKeyword} isn't allowed as an ONBUILD trigger`, 'Use it directly in the stage.', triggerStart);
  }
  const trigger = parseInstruction({ ...parts.ctx, readHeredocs: undefined }, parts.logical, triggerStart, parts.rest);
  return { keyword: 'ONBUILD', ...base(parts), expression: parts.rest, trigger };
}

