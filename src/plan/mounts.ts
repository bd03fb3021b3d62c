// RUN --mount=… parsed strictly: every key must be known for the mount type and every value
// valid, since a lenient parser that passes options on is how mount injection happens
// (CVE-2024-9407). Values are expanded after the CSV split, so a variable can never add a key.

import { posix } from 'node:path';
import type { SourceLocation } from '../errors.js';
import { ramBytes } from '../lib/ram-size.js';
import type { Flag } from '../recipe/index.js';
import { expandIn, recipeError, type PlanContext, type StageState } from './context.js';
import type { RunMount } from './types.js';

type MountType = RunMount['type'];

const KEYS: Record<MountType, readonly string[]> = {
  bind: ['type', 'target', 'source', 'from', 'readonly', 'rw'],
  cache: ['type', 'target', 'id', 'sharing', 'from', 'source', 'readonly', 'rw', 'mode', 'uid', 'gid'],
  tmpfs: ['type', 'target', 'size'],
  secret: ['type', 'id', 'target', 'env', 'required', 'mode', 'uid', 'gid'],
  ssh: ['type', 'id', 'target', 'required', 'mode', 'uid', 'gid'],
};

const ALIASES: Record<string, string> = { dst: 'target', destination: 'target', src: 'source', ro: 'readonly', readwrite: 'rw' };
const BOOL_KEYS = new Set(['readonly', 'rw', 'required']);
const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

export function parseMounts(ctx: PlanContext, state: StageState, flags: Flag[]): RunMount[] {
  let sshCount = 0;
  const mounts = flags.map((flag) => parseMount(ctx, state, flag, () => sshCount++));
  const targets = new Set<string>();
  for (const [i, mount] of mounts.entries()) {
    if (!mount.target) continue;
    if (targets.has(mount.target)) throw recipeError(ctx, 'E_RECIPE_MOUNT', `two mounts target ${mount.target}`, flags[i]!.location, 'Give each mount its own target.');
    targets.add(mount.target);
  }
  return mounts;
}

/**
 * `nextSsh` numbers the ssh mounts: each gets its own default socket path, as in BuildKit,
 * where N is the mount's index among the step's ssh mounts, counting those with a target too.
 */
function parseMount(ctx: PlanContext, state: StageState, flag: Flag, nextSsh: () => number): RunMount {
  const location = flag.location;
  const fail = (message: string, hint: string): never => {
    throw recipeError(ctx, 'E_RECIPE_MOUNT', `--mount: ${message}`, location, hint);
  };
  const fields = splitCsv(flag.value ?? '', fail);
  const raw = new Map<string, string | null>();
  for (const field of fields) {
    const equals = field.indexOf('=');
    const rawKey = (equals < 0 ? field : field.slice(0, equals)).trim().toLowerCase();
    const key = ALIASES[rawKey] ?? rawKey;
    if (raw.has(key)) fail(`option "${rawKey}" given twice`, 'Give each option once.');
    raw.set(key, equals < 0 ? null : field.slice(equals + 1));
  }
  const type = (raw.get('type') ?? 'bind') as MountType;
  if (!(type in KEYS)) fail(`unknown mount type "${type}"`, 'Mount types are bind, cache, tmpfs, secret and ssh.');
  for (const key of raw.keys()) {
    if (!KEYS[type].includes(key)) fail(`unknown option "${key}" for type=${type}`, `type=${type} accepts ${KEYS[type].join(', ')}.`);
  }
  const values = new Map<string, string>();
  for (const [key, value] of raw) {
    if (value === null) {
      if (!BOOL_KEYS.has(key)) fail(`option "${key}" needs a value`, `Write ${key}=VALUE.`);
      values.set(key, 'true');
      continue;
    }
    const expanded = expandIn(ctx, state, value, location);
    if (expanded.includes('\0')) fail(`option "${key}" contains a NUL byte`, 'Remove it.');
    values.set(key, expanded);
  }
  const read = new MountFields(values, fail, state.config.workdir);
  switch (type) {
    case 'bind':
      return {
        type, target: read.target(true), source: read.get('source') ?? '/', from: read.from(ctx, location) ?? { kind: 'context' },
        readwrite: read.readwrite(),
      };
    case 'cache': {
      const target = read.target(true);
      const from = read.from(ctx, location);
      const source = read.get('source');
      return {
        type, target, id: read.cacheId(target), sharing: read.sharing(), readonly: !read.readwrite(false),
        uid: read.int('uid', 0), gid: read.int('gid', 0), mode: read.mode(0o755),
        ...(from ? { from } : {}), ...(source !== undefined ? { source } : {}),
      };
    }
    case 'tmpfs': {
      const size = read.get('size');
      return { type, target: read.target(true), ...(size !== undefined ? { size: parseSize(size, fail) } : {}) };
    }
    case 'secret': {
      const env = read.get('env');
      const id = read.secretId(read.get('target'));
      const target = read.get('target') !== undefined || env === undefined ? read.target(false) || `/run/secrets/${id}` : '';
      return {
        type, id, target, required: read.bool('required', false), uid: read.int('uid', 0), gid: read.int('gid', 0), mode: read.mode(0o400),
        ...(env !== undefined ? { env } : {}),
      };
    }
    case 'ssh': {
      const index = nextSsh();
      return {
        type, id: read.get('id') ?? 'default', target: read.target(false) || `/run/buildkit/ssh_agent.${index}`, required: read.bool('required', false),
        uid: read.int('uid', 0), gid: read.int('gid', 0), mode: read.mode(0o600),
      };
    }
  }
}

/** Typed access to one mount's expanded options. */
class MountFields {
  private readonly values: Map<string, string>;
  private readonly fail: (message: string, hint: string) => never;
  private readonly workdir: string;

  constructor(values: Map<string, string>, fail: (message: string, hint: string) => never, workdir: string) {
    this.values = values;
    this.fail = fail;
    this.workdir = workdir;
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  /** The target, made absolute against the working directory as Docker does. */
  target(required: boolean): string {
    const target = this.get('target');
    if (target === undefined || target === '') {
      if (required) this.fail('target is required', 'Write target=/path.');
      return '';
    }
    return posix.resolve(this.workdir || '/', target);
  }

  from(ctx: PlanContext, location: SourceLocation) {
    const from = this.get('from');
    return from === undefined ? undefined : ctx.resolveSource(from, location);
  }

  /** Booleans as Go's strconv.ParseBool reads them, which BuildKit uses here. */
  bool(key: string, fallback: boolean): boolean {
    const value = this.get(key);
    if (value === undefined) return fallback;
    if (GO_TRUE.includes(value)) return true;
    if (GO_FALSE.includes(value)) return false;
    return this.fail(`${key} must be true or false, not "${value}"`, `Write ${key} or ${key}=false.`);
  }

  readwrite(defaultReadonly = true): boolean {
    if (this.values.has('rw') && this.values.has('readonly')) this.fail('both rw and readonly given', 'Give one of them.');
    if (this.values.has('rw')) return this.bool('rw', false);
    if (this.values.has('readonly')) return !this.bool('readonly', true);
    return !defaultReadonly;
  }

  int(key: string, fallback: number): number {
    const value = this.get(key);
    if (value === undefined) return fallback;
    if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) this.fail(`${key} must be a non-negative integer, not "${value}"`, `Write ${key}=1000.`);
    return Number(value);
  }

  mode(fallback: number): number {
    const value = this.get('mode');
    if (value === undefined) return fallback;
    if (!/^0?[0-7]{1,4}$/.test(value)) this.fail(`mode must be octal, not "${value}"`, 'Write mode=0755.');
    return parseInt(value, 8);
  }

  sharing(): 'shared' | 'private' | 'locked' {
    const value = this.get('sharing') ?? 'shared';
    if (value !== 'shared' && value !== 'private' && value !== 'locked') {
      this.fail(`sharing must be shared, private or locked, not "${value}"`, 'Write sharing=locked.');
    }
    return value;
  }

  /** Cache ids name a directory in the store: no `..` component, no control characters. */
  cacheId(target: string): string {
    const id = this.get('id') ?? target;
    if (id === '' || id.split('/').includes('..') || /[\0-\x1f]/.test(id)) {
      this.fail(`cache id "${id}" is not allowed: no "..", control characters or empty ids`, 'Use a plain name, e.g. id=npm.');
    }
    return id;
  }

  /** Secret ids are plain names: no `/`, `..` or control characters. */
  secretId(target: string | undefined): string {
    const id = this.get('id') ?? (target ? posix.basename(target) : undefined);
    if (id === undefined || id === '') this.fail('a secret mount needs id= (or a target to name it)', 'Write type=secret,id=NAME.');
    if (id.includes('/') || id === '.' || id === '..' || /[\0-\x1f]/.test(id)) {
      this.fail(`secret id "${id}" is not allowed: no "/", "..", or control characters`, 'Use a plain name, e.g. id=npmrc.');
    }
    return id;
  }
}

/** Splits `a=1,"b=2,3"` like Go's csv reader: quotes protect commas, `""` is a quote. */
function splitCsv(text: string, fail: (message: string, hint: string) => never): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      fieldStart = true;
      continue;
    } else if (ch === '"' && fieldStart) {
      quoted = true;
    } else {
      field += ch;
    }
    fieldStart = false;
  }
  if (quoted) fail('unterminated quote', 'Close the quote.');
  fields.push(field);
  if (fields.some((f) => f.trim() === '')) fail('empty option (",," or a trailing comma)', 'Remove the extra comma.');
  return fields;
}

function parseSize(text: string, fail: (message: string, hint: string) => never): number {
  return ramBytes(text) ?? fail(`size must be bytes with an optional unit, not "${text}"`, 'Write size=64m.');
}
