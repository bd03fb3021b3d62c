// Instructions that change only the image config (ENV, WORKDIR, CMD …): each updates the
// stage state and yields a step whose `createdBy` is the history text BuildKit writes.

import { posix } from 'node:path';
import type {
  ArgInstruction,
  CommandInstruction,
  CommandSource,
  HealthcheckInstruction,
  Instruction,
  KeyValueInstruction,
  ListInstruction,
  OnbuildInstruction,
  ShellInstruction,
  ValueInstruction,
} from '../recipe/index.js';
import { stringFlag } from '../recipe/index.js';
import { expandIn, expandWordsIn, recipeError, setEnv, type PlanContext, type StageState } from './context.js';
import { goSlice } from './go-format.js';
import { formatGoDuration, parseGoDuration } from './duration.js';
import type { ConfigStep, HealthcheckSpec } from './types.js';

export type ConfigInstruction = Exclude<Instruction, { keyword: 'FROM' | 'RUN' | 'COPY' | 'ADD' }>;

/** What a config instruction did: its history text, display text, and WORKDIR's directory. */
interface Effect {
  createdBy: string;
  instruction?: string;
  createsDir?: string;
  noHistory?: boolean;
}

/** Applies `instruction` to `state` (args for ARG are declared by the caller first). */
export function planConfigStep(ctx: PlanContext, state: StageState, instruction: ConfigInstruction): ConfigStep {
  const effect = applyConfig(ctx, state, instruction);
  return {
    kind: 'config',
    keyword: instruction.keyword,
    location: instruction.location,
    instruction: effect.instruction ?? effect.createdBy,
    createdBy: effect.createdBy,
    config: structuredClone(state.config),
    args: state.args.toRecord(),
    ...(effect.createsDir !== undefined ? { createsDir: effect.createsDir } : {}),
    ...(effect.noHistory ? { noHistory: true } : {}),
  };
}

function applyConfig(ctx: PlanContext, state: StageState, instruction: ConfigInstruction): Effect {
  switch (instruction.keyword) {
    case 'ENV':
    case 'LABEL':
      return applyKeyValues(ctx, state, instruction);
    case 'ARG':
      return { createdBy: argHistory(instruction, state) };
    case 'WORKDIR':
      return applyWorkdir(ctx, state, instruction);
    case 'USER': {
      state.config.user = expandValue(ctx, state, instruction);
      return { createdBy: `USER ${state.config.user}` };
    }
    case 'STOPSIGNAL':
      return applyStopSignal(ctx, state, instruction);
    case 'MAINTAINER':
      state.config.author = instruction.value;
      return { createdBy: `MAINTAINER ${instruction.value}` };
    case 'EXPOSE':
      return applyExpose(ctx, state, instruction);
    case 'VOLUME':
      return applyVolume(ctx, state, instruction);
    case 'CMD':
    case 'ENTRYPOINT':
      return applyCommand(ctx, state, instruction);
    case 'SHELL':
      return applyShell(state, instruction);
    case 'HEALTHCHECK':
      return applyHealthcheck(ctx, state, instruction);
    case 'ONBUILD':
      return applyOnbuild(state, instruction);
  }
}

function expandValue(ctx: PlanContext, state: StageState, instruction: ValueInstruction): string {
  return expandIn(ctx, state, instruction.value, instruction.argsLocation);
}

function applyKeyValues(ctx: PlanContext, state: StageState, instruction: KeyValueInstruction): Effect {
  // Every pair sees the variables as they were before this instruction, as in Docker.
  const pairs = instruction.pairs.map(({ key, value, location }) => ({
    key: expandIn(ctx, state, key, location),
    value: expandIn(ctx, state, value, location),
  }));
  for (const { key, value } of pairs) {
    if (instruction.keyword === 'ENV') setEnv(state.config.env, key, value);
    else state.config.labels[key] = value;
  }
  return { createdBy: `${instruction.keyword} ${pairs.map(({ key, value }) => `${key}=${value}`).join(' ')}` };
}

function argHistory(instruction: ArgInstruction, state: StageState): string {
  const parts = instruction.args.map(({ name }) => {
    const value = state.args.get(name);
    return value === undefined ? name : `${name}=${value}`;
  });
  return `ARG ${parts.join(' ')}`;
}

function applyWorkdir(ctx: PlanContext, state: StageState, instruction: ValueInstruction): Effect {
  const written = expandValue(ctx, state, instruction);
  const workdir = posix.resolve(state.config.workdir || '/', written);
  state.config.workdir = workdir;
  // BuildKit makes the directory (a layer) unless it is the root.
  return { createdBy: `WORKDIR ${workdir}`, ...(workdir !== '/' ? { createsDir: workdir } : {}) };
}

function applyStopSignal(ctx: PlanContext, state: StageState, instruction: ValueInstruction): Effect {
  const signal = expandValue(ctx, state, instruction);
  if (!isSignal(signal)) {
    throw recipeError(ctx, 'E_RECIPE_SYNTAX', `invalid signal "${signal}"`, instruction.argsLocation, 'Write a signal name (SIGTERM) or number (15).');
  }
  state.config.stopSignal = signal;
  return { createdBy: `STOPSIGNAL ${signal}` };
}

/** Linux signal names (with or without SIG, any case), RTMIN+n / RTMAX-n, or numbers 1–64, as moby's ParseSignal. */
const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR',
  'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'UNUSED', 'URG', 'USR1', 'USR2', 'VTALRM',
  'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
]);

function isSignal(text: string): boolean {
  if (/^\d+$/.test(text)) return Number(text) >= 1 && Number(text) <= 64;
  const name = text.toUpperCase().replace(/^SIG/, '');
  const realtime = /^RTMIN\+(\d+)$|^RTMAX-(\d+)$/.exec(name);
  if (realtime) return Number(realtime[1] ?? realtime[2]) <= 30;
  return SIGNALS.has(name);
}

function applyExpose(ctx: PlanContext, state: StageState, instruction: ListInstruction): Effect {
  // EXPOSE splits expanded values into words: `EXPOSE $PORTS` may name several.
  const specs = instruction.items.flatMap((item) => expandWordsIn(ctx, state, item, instruction.argsLocation));
  const added = specs.flatMap((spec) => parsePortSpec(ctx, spec, instruction));
  state.config.exposedPorts = [...new Set([...state.config.exposedPorts, ...added])].sort();
  return { createdBy: `EXPOSE ${goSlice(added)}`, instruction: `EXPOSE ${specs.join(' ')}` };
}

/**
 * `[ip:][hostPort:]containerPort[-end][/proto]` → `port/proto` for each container port, as
 * BuildKit reads it (host parts are accepted and ignored); the protocol is tcp, udp or sctp.
 */
function parsePortSpec(ctx: PlanContext, spec: string, instruction: ListInstruction): string[] {
  const fail = (why: string): never => {
    throw recipeError(ctx, 'E_RECIPE_SYNTAX', `invalid port "${spec}": ${why}`, instruction.argsLocation, 'Write PORT[/tcp|udp|sctp] or FIRST-LAST[/protocol], e.g. EXPOSE 80 53/udp.');
  };
  const [containerPart, rawProto = ''] = (spec.split(':').pop() ?? '').split('/', 2) as [string, string?];
  const proto = rawProto.toLowerCase() || 'tcp';
  if (containerPart === '') fail('no port specified');
  if (!['tcp', 'udp', 'sctp'].includes(proto)) fail(`invalid proto: ${rawProto}`);
  const range = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(containerPart);
  const first = Number(range?.[1]);
  const last = range?.[2] === undefined ? first : Number(range[2]);
  if (!range || first > 65535 || last > 65535 || last < first) fail(`invalid containerPort: ${containerPart}`);
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${proto}`);
}

function applyVolume(ctx: PlanContext, state: StageState, instruction: ListInstruction): Effect {
  const volumes = instruction.items.map((item) => expandIn(ctx, state, item, instruction.argsLocation));
  for (const volume of volumes) {
    if (volume.trim() === '') throw recipeError(ctx, 'E_RECIPE_SYNTAX', 'VOLUME specified can not be an empty string', instruction.argsLocation, 'Name a path.');
    if (!state.config.volumes.includes(volume)) state.config.volumes.push(volume);
  }
  state.config.volumes.sort();
  return { createdBy: `VOLUME ${goSlice(volumes)}`, instruction: `VOLUME ${volumes.join(' ')}` };
}

/** Shell form runs through the stage's SHELL; exec form is used as written. */
export function commandArgv(command: CommandSource, shell: readonly string[]): string[] {
  return command.form === 'exec' ? [...command.argv] : [...shell, command.script];
}

function applyCommand(ctx: PlanContext, state: StageState, instruction: CommandInstruction): Effect {
  if (instruction.command.form === 'shell' && !state.config.explicitShell) {
    ctx.warnings.push({
      rule: 'JSONArgsRecommended',
      message: `JSON arguments recommended for ${instruction.keyword} to prevent unintended behavior related to OS signals`,
      location: instruction.location,
    });
  }
  const argv = commandArgv(instruction.command, state.config.shell);
  if (instruction.keyword === 'CMD') {
    state.config.cmd = argv;
    state.config.argsEscaped = true;
    state.cmdSet = true;
  } else {
    state.config.entrypoint = argv;
    // An ENTRYPOINT resets the CMD inherited from the base, not one set in this stage.
    if (!state.cmdSet) state.config.cmd = null;
  }
  return { createdBy: `${instruction.keyword} ${goSlice(argv, true)}`, instruction: `${instruction.keyword} ${instruction.rest}` };
}

function applyShell(state: StageState, instruction: ShellInstruction): Effect {
  state.config.shell = [...instruction.argv];
  state.config.explicitShell = true;
  return { createdBy: `SHELL ${goSlice(instruction.argv)}`, instruction: `SHELL ${instruction.rest}` };
}

function applyHealthcheck(ctx: PlanContext, state: StageState, instruction: HealthcheckInstruction): Effect {
  const spec = healthcheckSpec(ctx, instruction);
  state.config.healthcheck = spec;
  // BuildKit prints the config struct with Go's %+v.
  const durations = [spec.Interval, spec.Timeout, spec.StartPeriod, spec.StartInterval].map((nanos) => formatGoDuration(nanos ?? 0));
  const fields = `Test:${goSlice(spec.Test)} Interval:${durations[0]} Timeout:${durations[1]} StartPeriod:${durations[2]} StartInterval:${durations[3]} Retries:${spec.Retries ?? 0}`;
  return { createdBy: `HEALTHCHECK {${fields}}`, instruction: `HEALTHCHECK ${instruction.rest}` };
}

function healthcheckSpec(ctx: PlanContext, instruction: HealthcheckInstruction): HealthcheckSpec {
  const command = instruction.command;
  if (command === null) return { Test: ['NONE'] };
  const spec: HealthcheckSpec = { Test: command.form === 'exec' ? ['CMD', ...command.argv] : ['CMD-SHELL', command.script] };
  const durations = [['interval', 'Interval'], ['timeout', 'Timeout'], ['start-period', 'StartPeriod'], ['start-interval', 'StartInterval']] as const;
  for (const [flagName, field] of durations) {
    const flag = stringFlag(instruction.flags, flagName);
    if (!flag) continue;
    const nanos = parseGoDuration(flag.value!);
    if (nanos === undefined || (nanos !== 0 && nanos < 1_000_000)) {
      throw recipeError(ctx, 'E_RECIPE_FLAG', `--${flagName} must be a duration of at least 1ms (or 0), not "${flag.value}"`, flag.location, 'Write e.g. --interval=30s or --timeout=1m30s.');
    }
    spec[field] = nanos;
  }
  const retries = stringFlag(instruction.flags, 'retries');
  if (retries) {
    if (!/^\d+$/.test(retries.value!)) throw recipeError(ctx, 'E_RECIPE_FLAG', `--retries must be a non-negative integer, not "${retries.value}"`, retries.location, 'Write e.g. --retries=3.');
    spec.Retries = Number(retries.value);
  }
  return spec;
}

function applyOnbuild(state: StageState, instruction: OnbuildInstruction): Effect {
  state.config.onBuild.push(instruction.expression);
  // BuildKit records the trigger in the config but writes no history entry for it.
  return { createdBy: `ONBUILD ${instruction.expression}`, noHistory: true };
}
