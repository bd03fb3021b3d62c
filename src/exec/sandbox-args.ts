// SandboxSpec → the helper's argument list (bubblewrap style, never JSON). Pure.

import { posix } from 'node:path';
import type { SandboxSpec } from './types.js';

/** A path inside the root, cleaned lexically as Docker cleans WORKDIR (`/a/../b` → `/b`); the
 * helper then resolves it inside the root. */
function insideRoot(path: string): string {
  return posix.resolve('/', path);
}

/** The descriptor the helper writes its one-line final status to (see native/README.md). */
export const STATUS_FD = 3;
/** The descriptor the helper reads the step's environment from (`--env-fd`). */
export const ENV_FD = 4;

export function sandboxArgv(spec: SandboxSpec): string[] {
  const args: string[] = [];
  for (const lower of spec.lowerDirs) args.push('--lower', lower);
  args.push('--upper', spec.upperDir, '--work', spec.workDir);
  for (const mount of spec.mounts ?? []) {
    if (mount.type === 'tmpfs') {
      if (mount.sizeBytes !== undefined) args.push('--size', String(mount.sizeBytes));
      args.push('--tmpfs', insideRoot(mount.target));
    } else {
      if (mount.source === undefined) throw new TypeError(`bind mount at ${mount.target} has no source`);
      args.push(mount.readonly ? '--ro-bind' : '--bind', mount.source, insideRoot(mount.target));
    }
  }
  if (spec.hostname !== undefined) args.push('--hostname', spec.hostname);
  for (const host of spec.extraHosts ?? []) args.push('--add-host', host.name, host.ip);
  if (spec.shmSizeBytes !== undefined) args.push('--shm-size', String(spec.shmSizeBytes));
  args.push('--uid', String(spec.uid), '--gid', String(spec.gid));
  if (spec.groups !== undefined && spec.groups.length > 0) args.push('--groups', spec.groups.join(','));
  args.push('--chdir', insideRoot(spec.cwd || '/'));
  // The environment travels on a pipe, not argv: values (secrets among them) must not show in
  // the host's /proc/PID/cmdline while the step runs.
  args.push('--env-fd', String(ENV_FD));
  args.push('--network', spec.network);
  const limits = spec.limits ?? {};
  if (limits.memoryBytes !== undefined) args.push('--memory', String(limits.memoryBytes));
  if (limits.pids !== undefined) args.push('--pids', String(limits.pids));
  if (limits.cpus !== undefined) args.push('--cpus', String(limits.cpus));
  if (limits.cpuset !== undefined) args.push('--cpuset', limits.cpuset);
  if (limits.timeoutSeconds !== undefined) args.push('--timeout', String(limits.timeoutSeconds));
  for (const ulimit of spec.ulimits ?? []) args.push('--ulimit', ulimit.type, rlimitArg(ulimit.soft), rlimitArg(ulimit.hard));
  args.push('--status-fd', String(STATUS_FD), '--', ...spec.argv);
  return args;
}

/** Docker's -1 (unlimited) as the helper spells it. */
function rlimitArg(value: number): string {
  return value === -1 ? 'unlimited' : String(value);
}

/** What the helper reads on ENV_FD: the spec's environment as NUL-terminated KEY=VALUE entries. */
export function sandboxEnvPayload(spec: SandboxSpec): Buffer {
  for (const entry of spec.env) {
    if (entry.indexOf('=') <= 0 || entry.includes('\0')) throw new TypeError(`environment entry '${entry}' is not KEY=VALUE`);
  }
  return Buffer.from(spec.env.map((entry) => `${entry}\0`).join(''));
}
