// COPY/ADD → CopyStep: sources, destination and flags expanded; heredoc contents expanded
// unless their delimiter was quoted; the destination made absolute against WORKDIR.

import { posix } from 'node:path';
import type { SourceLocation } from '../errors.js';
import { GitUrlError, isFetchedSource, isGitUrl, parseGitUrl, redactUrl } from '../lib/git-url.js';
import type { CopyInstruction, Flag, HeredocSource } from '../recipe/index.js';
import { boolFlag, listFlag, stringFlag } from '../recipe/index.js';
import { expandIn, recipeError, type PlanContext, type StageState } from './context.js';
import type { CopyStep, FileSource, Heredoc } from './types.js';

export function planCopyStep(ctx: PlanContext, state: StageState, instruction: CopyInstruction): CopyStep {
  const at = instruction.location;
  const expand = (word: string) => expandIn(ctx, state, word, instruction.argsLocation);
  const expandFlag = (flag: Flag) => expandIn(ctx, state, flag.value!, flag.location);
  const flag = (name: string) => {
    const found = stringFlag(instruction.flags, name);
    return found ? { flag: found, value: expandFlag(found) } : undefined;
  };
  const sources = instruction.sources.map(expand);
  if (instruction.keyword === 'COPY') {
    const remote = sources.find(isFetchedSource);
    if (remote) {
      throw recipeError(ctx, 'E_RECIPE_SYNTAX', `source can't be a URL or git ref for COPY: ${redactUrl(remote)}`, instruction.argsLocation, 'Use ADD for remote sources.');
    }
  }
  for (const source of sources.filter(isGitUrl)) checkGitUrl(ctx, source, instruction.argsLocation);
  // Progress, history and plans show the sources; a token in a URL must not appear there.
  const shownSources = sources.map(redactUrl);
  const writtenDest = expand(instruction.dest);
  const chown = flag('chown')?.value;
  const chmod = flag('chmod');
  if (chmod) checkChmod(ctx, chmod.flag, chmod.value);
  const checksum = flag('checksum');
  if (checksum) checkChecksum(ctx, checksum.flag, checksum.value, sources);
  const from = flag('from');
  const parents = boolFlag(instruction.flags, 'parents');
  const heredocs = instruction.heredocs.map((source) => expandHeredoc(ctx, state, source));
  const history = [
    instruction.keyword,
    ...(parents ? ['--parents'] : []),
    ...(chown ? [`--chown=${chown}`] : []),
    ...(chmod ? [`--chmod=${chmod.value}`] : []),
    ...shownSources,
    ...heredocs.map((heredoc) => `<<${heredoc.name}`),
    writtenDest,
  ].join(' ');
  return {
    kind: instruction.keyword === 'ADD' ? 'add' : 'copy',
    location: at,
    instruction: `${instruction.keyword} ${flagText(instruction.flags, expandFlag)}${[...shownSources, ...heredocs.map((h) => `<<${h.name}`), writtenDest].join(' ')}`,
    createdBy: `${history} # buildkit`,
    config: structuredClone(state.config),
    args: state.args.toRecord(),
    sources,
    heredocs,
    dest: resolveDest(state.config.workdir, writtenDest),
    from: from ? ctx.resolveSource(from.value, from.flag.location) : ({ kind: 'context' } satisfies FileSource),
    ...(chown ? { chown } : {}),
    ...(chmod ? { chmod: chmod.value } : {}),
    link: boolFlag(instruction.flags, 'link'),
    exclude: listFlag(instruction.flags, 'exclude').map(expandFlag),
    parents,
    ...(checksum ? { checksum: checksum.value } : {}),
    keepGitDir: boolFlag(instruction.flags, 'keep-git-dir'),
  };
}

function flagText(flags: readonly Flag[], expand: (flag: Flag) => string): string {
  return flags.map((flag) => `--${flag.name}${flag.value === null ? '' : `=${expand(flag)}`} `).join('');
}

/** Absolute, with the trailing `/` kept: it says "into this directory" (`.` counts as one). */
export function resolveDest(workdir: string, dest: string): string {
  const resolved = posix.resolve(workdir || '/', dest);
  const intoDir = dest === '.' || dest === '' || dest.endsWith('/') || dest.endsWith('/.');
  return intoDir && resolved !== '/' ? `${resolved}/` : resolved;
}

// BuildKit expands COPY heredocs with quotes as plain characters and `\` as the escape.
function expandHeredoc(ctx: PlanContext, state: StageState, source: HeredocSource): Heredoc {
  const content = source.quoted ? source.content : expandIn(ctx, state, source.content, source.location, { escape: '\\', skipQuotes: true });
  return { name: source.name, content, quoted: source.quoted, chomp: source.chomp };
}

const SYMBOLIC_MODE = /^([ugoa]*[-+=]([rwxXst]*|[ugo]))+(,([ugoa]*[-+=]([rwxXst]*|[ugo]))+)*$/;

function checkChmod(ctx: PlanContext, flag: Flag, value: string): void {
  if (/^[0-7]+$/.test(value) ? parseInt(value, 8) <= 0o7777 : SYMBOLIC_MODE.test(value)) return;
  throw recipeError(ctx, 'E_RECIPE_FLAG', `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777, or a symbolic mode`, flag.location, 'Write --chmod=0755 or --chmod=u+x.');
}

/** A git URL's ref and subdir are checked here, so a bad one is reported at its line before any fetch. */
function checkGitUrl(ctx: PlanContext, source: string, location: SourceLocation): void {
  try {
    parseGitUrl(source);
  } catch (error) {
    if (!(error instanceof GitUrlError)) throw error;
    throw recipeError(ctx, error.code, error.message, location, error.hint);
  }
}

function checkChecksum(ctx: PlanContext, flag: Flag, value: string, sources: string[]): void {
  const fail = (message: string): never => {
    throw recipeError(ctx, 'E_RECIPE_FLAG', message, flag.location, 'Use --checksum with one http(s) or git source.');
  };
  if (sources.length !== 1) fail("checksum can't be specified for multiple sources");
  if (!isFetchedSource(sources[0]!)) fail('checksum requires HTTP(S) or Git sources');
  if (!/^(sha256:[a-f0-9]{64}|[a-f0-9]{7,40})$/.test(value)) fail(`invalid checksum "${value}": write sha256:<64 hex digits>`);
}
