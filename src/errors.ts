// Typed errors with a stable code and exit status. Library code throws these; only cli/
// decides how to print them and calls process.exit. An error that is not a TsbuildError is a
// bug and is printed with its stack.

/** Exit statuses of the CLI; the README documents them. */
export const ExitStatus = {
  ok: 0,
  buildFailed: 1,
  usage: 2,
  store: 3,
  registry: 4,
  replayDiverged: 5,
  daemon: 6,
  interrupted: 130,
  internal: 70,
} as const;

/** A position in a recipe file, 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

export interface TsbuildErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export class TsbuildError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint?: string;

  constructor(code: string, message: string, exitCode: number, options: TsbuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** The command line itself is wrong: unknown flag, bad value, missing argument. */
export class UsageError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('E_USAGE', message, ExitStatus.usage, options);
  }
}

/**
 * The recipe is wrong at a known place. `source` holds the recipe text so the printer can
 * show the offending line with a marker.
 */
export class RecipeError extends TsbuildError {
  readonly location: SourceLocation;
  readonly source?: string;

  constructor(
    code: string,
    message: string,
    location: SourceLocation,
    options: TsbuildErrorOptions & { source?: string } = {},
  ) {
    super(code, message, ExitStatus.buildFailed, options);
    this.location = location;
    this.source = options.source;
  }
}

/** A build failed for a reason that is not a recipe syntax error (missing base, missing COPY source…). */
export class BuildError extends TsbuildError {
  readonly location?: SourceLocation;
  readonly source?: string;

  constructor(
    code: string,
    message: string,
    options: TsbuildErrorOptions & { location?: SourceLocation; source?: string } = {},
  ) {
    super(code, message, ExitStatus.buildFailed, options);
    this.location = options.location;
    this.source = options.source;
  }
}

/** Why a step's process ended without success. */
export type StepFailure =
  | { kind: 'exit'; status: number }
  | { kind: 'signal'; signal: number }
  | { kind: 'oom'; limitBytes?: number }
  | { kind: 'pids'; limit?: number }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'setup'; message: string };

export class StepFailedError extends BuildError {
  readonly failure: StepFailure;
  /** The last lines the step printed, for the error report. */
  readonly logTail: string[];

  constructor(
    message: string,
    failure: StepFailure,
    options: TsbuildErrorOptions & { location?: SourceLocation; source?: string; logTail?: string[] } = {},
  ) {
    super('E_STEP_FAILED', message, options);
    this.failure = failure;
    this.logTail = options.logTail ?? [];
  }
}

/** Kinds of store failure, after containerd's errdefs: callers test the kind, not the class. */
export type StoreErrorKind =
  | 'not-found'
  | 'already-exists'
  | 'corrupt'
  | 'locked'
  | 'no-space'
  | 'invalid';

export class StoreError extends TsbuildError {
  readonly kind: StoreErrorKind;

  constructor(kind: StoreErrorKind, message: string, options: TsbuildErrorOptions = {}) {
    super(`E_STORE_${kind.toUpperCase().replace(/-/g, '_')}`, message, ExitStatus.store, options);
    this.kind = kind;
  }
}

/** A layer or archive is malformed or hostile. */
export class LayerError extends TsbuildError {
  constructor(code: string, message: string, options: TsbuildErrorOptions = {}) {
    super(code, message, ExitStatus.buildFailed, options);
  }
}

export class RegistryError extends TsbuildError {
  readonly status?: number;

  constructor(code: string, message: string, options: TsbuildErrorOptions & { status?: number } = {}) {
    super(code, message, ExitStatus.registry, options);
    this.status = options.status;
  }
}

/** The Docker daemon (`--load`) could not be reached, or refused the image. */
export class DaemonError extends TsbuildError {
  constructor(code: string, message: string, options: TsbuildErrorOptions = {}) {
    super(code, message, ExitStatus.daemon, options);
  }
}

/** The build was cancelled (Ctrl-C, or a sibling step failed first). */
export class CancelledError extends TsbuildError {
  constructor(message = 'build cancelled') {
    super('E_CANCELLED', message, ExitStatus.interrupted);
  }
}

/** Something that should never happen: printed with its stack and a request to report it. */
export class InternalError extends TsbuildError {
  constructor(message: string, options: TsbuildErrorOptions = {}) {
    super('E_INTERNAL', message, ExitStatus.internal, options);
  }
}

export function isTsbuildError(error: unknown): error is TsbuildError {
  return error instanceof TsbuildError;
}

/**
 * Renders the recipe lines around a location, BuildKit style: line numbers, and `>>>` on the
 * offending line. Used by every renderer so a recipe error always looks the same.
 */
export function formatSourceExcerpt(source: string, location: SourceLocation, context = 2): string {
  const lines = source.split(/\r?\n/);
  if (lines.length > 1 && lines.at(-1) === '') lines.pop(); // the newline ending the last line starts none
  const first = Math.max(1, location.line - context);
  const last = Math.min(lines.length, (location.endLine ?? location.line) + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marked = n >= location.line && n <= (location.endLine ?? location.line);
    out.push(`${marked ? '>>>' : '   '} ${String(n).padStart(width)} | ${lines[n - 1] ?? ''}`);
  }
  return out.join('\n');
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}
