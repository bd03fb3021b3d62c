// What goes into each kind of step's cache key (the definition half; the other halves are the
// parent's key and, for COPY/ADD, the content digests of the selected sources). After
// BuildKit's ExecOp.CacheMap: take the step, keep only what can change its result, tag it with
// its kind. Everything here is part of the key format (solve/key.ts): adding or dropping a
// field means bumping KEY_VERSION, except a new field that is absent unless a new option is
// used: absent fields are not encoded, so every existing key stays as it was.

import type { CopyStep, RunMount, RunStep, TargetPlatform, FileSource } from '../plan/types.js';
import { isProxyArg } from '../plan/args.js';
import type { SandboxSettings } from '../lib/sandbox-settings.js';
import type { KeyValue } from './key.js';

/** Build-wide settings that reach into step keys. Secrets are deliberately not here. */
export interface StepKeyContext {
  platform: TargetPlatform;
  /** The build's --network: what `RUN --network=default` means. */
  network: 'none' | 'host';
  /** SOURCE_DATE_EPOCH: file times in the layers a step makes are clamped to it. */
  sourceDateEpoch: number;
  /** `--add-host`, `--shm-size`, `--ulimit`: every RUN step's sandbox. */
  sandbox?: SandboxSettings;
}

/**
 * The environment a RUN step sees: proxy settings and build args in scope, then the stage's
 * ENV (an ENV of the same name wins, as in Docker), then SSH_AUTH_SOCK for an ssh mount.
 * Nothing of the host's.
 */
export function runEnvironment(step: RunStep): string[] {
  const fromEnv = new Set(step.config.env.map(envName));
  const args = { ...step.proxy, ...step.args };
  const fromArgs = Object.keys(args)
    .filter((name) => !fromEnv.has(name))
    .sort()
    .map((name) => `${name}=${args[name]}`);
  const env = [...fromArgs, ...step.config.env];
  return [...env, ...agentSocketEnv(step, env)];
}

/**
 * SSH_AUTH_SOCK at the first ssh mount's socket unless the step's environment sets it, as
 * BuildKit's llb does; set whether or not the agent was given, so it is part of the key alone.
 */
function agentSocketEnv(step: RunStep, env: readonly string[]): string[] {
  const first = step.mounts.find((mount) => mount.type === 'ssh');
  if (!first || env.some((entry) => envName(entry) === 'SSH_AUTH_SOCK')) return [];
  return [`SSH_AUTH_SOCK=${first.target}`];
}

function envName(entry: string): string {
  return entry.slice(0, Math.max(0, entry.indexOf('=')));
}

export function resolveNetwork(step: RunStep, context: StepKeyContext): 'none' | 'host' {
  return step.network === 'default' ? context.network : step.network;
}

export function runDefinition(step: RunStep, context: StepKeyContext): KeyValue {
  // Proxy settings never change what a step produces, so, as in Docker, they stay out of the
  // key (a CI runner behind a proxy shares the cache).
  const env = runEnvironment(step).filter((entry) => !isProxyArg(entry.slice(0, entry.indexOf('='))));
  return {
    kind: 'run',
    command: step.command.form === 'shell' ? { shell: step.command.script } : { exec: step.command.argv },
    heredocs: step.heredocs.map(({ name, content, chomp }) => ({ name, content, chomp })),
    env,
    user: step.config.user,
    workdir: step.config.workdir,
    shell: step.config.shell,
    network: resolveNetwork(step, context),
    security: step.security,
    mounts: step.mounts.map(mountDefinition),
    platform: platformDefinition(context.platform),
    epoch: context.sourceDateEpoch,
    ...sandboxDefinition(context.sandbox ?? {}),
  };
}

/**
 * The build's sandbox settings as BuildKit keys them in its ExecOp: the extra hosts' names but
 * not their addresses (which may differ between machines, as a proxy may), each ulimit, the
 * /dev/shm size. A setting not given adds no field, so builds without them keep their keys.
 */
function sandboxDefinition({ extraHosts, ulimits, shmSizeBytes }: SandboxSettings): Record<string, KeyValue> {
  return {
    extraHosts: extraHosts?.length ? extraHosts.map((host) => host.name) : undefined,
    ulimits: ulimits?.length ? ulimits.map(({ type, soft, hard }) => ({ type, soft, hard })) : undefined,
    shmSize: shmSizeBytes || undefined,
  };
}

/** A mount as far as it can change the result: a secret's id and place, never its value. */
function mountDefinition(mount: RunMount): KeyValue {
  switch (mount.type) {
    case 'bind':
      return { type: 'bind', target: mount.target, source: mount.source, from: fileSourceDefinition(mount.from), readwrite: mount.readwrite };
    case 'cache':
      // A cache mount's contents are a shared scratch area by design: only its shape is keyed.
      return {
        type: 'cache', target: mount.target, id: mount.id, sharing: mount.sharing, readonly: mount.readonly,
        uid: mount.uid, gid: mount.gid, mode: mount.mode,
        from: mount.from ? fileSourceDefinition(mount.from) : undefined, source: mount.source,
      };
    case 'tmpfs':
      return { type: 'tmpfs', target: mount.target, size: mount.size };
    case 'secret':
      return { type: 'secret', id: mount.id, target: mount.target, env: mount.env, required: mount.required, uid: mount.uid, gid: mount.gid, mode: mount.mode };
    case 'ssh':
      // Which agent (the id) and where: the agent's socket path and its keys are never keyed.
      return { type: 'ssh', id: mount.id, target: mount.target, required: mount.required, uid: mount.uid, gid: mount.gid, mode: mount.mode };
  }
}

/** A stage source is keyed by its index here and by its result through the vertex's inputs. */
function fileSourceDefinition(from: FileSource): KeyValue {
  switch (from.kind) {
    case 'context':
      return { kind: 'context' };
    case 'named':
      return { kind: 'named', name: from.name };
    case 'stage':
      return { kind: 'stage', stage: from.stage };
    case 'image':
      return { kind: 'image', ref: from.ref };
  }
}

export function copyDefinition(step: CopyStep, context: StepKeyContext): KeyValue {
  return {
    kind: step.kind,
    sources: step.sources,
    heredocs: step.heredocs.map(({ name, content, chomp }) => ({ name, content, chomp })),
    dest: step.dest,
    // A relative destination resolves against the workdir.
    workdir: step.config.workdir,
    from: fileSourceDefinition(step.from),
    chown: step.chown,
    chmod: step.chmod,
    link: step.link,
    exclude: step.exclude,
    parents: step.parents,
    checksum: step.checksum,
    keepGitDir: step.keepGitDir,
    platform: platformDefinition(context.platform),
    epoch: context.sourceDateEpoch,
  };
}

/** WORKDIR creating its directory: a small layer, owned by the current user. */
export function mkdirDefinition(path: string, user: string, context: StepKeyContext): KeyValue {
  return { kind: 'mkdir', path, user, platform: platformDefinition(context.platform), epoch: context.sourceDateEpoch };
}

function platformDefinition(platform: TargetPlatform): KeyValue {
  return { os: platform.os, architecture: platform.architecture, variant: platform.variant };
}
