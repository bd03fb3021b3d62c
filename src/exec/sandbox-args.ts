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
  args.push('--uid', String(spec.uid), '--gid', String(spec.gid));
  if (spec.groups !== undefined && spec.groups.length > 0) args.push('--groups', spec.groups.join(','));
  args.push('--chdir', insideRoot(spec.cwd || '/'));
  for (const entry of spec.env) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new TypeError(`environment entry '${entry}' is not KEY=VALUE`);
    args.push('--setenv', entry.slice(0, eq), entry.slice(eq + 1));
  }
  args.push('--network', spec.network);
  const limits = spec.limits ?? {};
  if (limits.memoryBytes !== undefined) args.push('--memory', String(limits.memoryBytes));
  if (limits.pids !== undefined) args.push('--pids', String(limits.pids));
  if (limits.cpus !== undefined) args.push('--cpus', String(limits.cpus));
  if (limits.cpuset !== undefined) args.push('--cpuset', limits.cpuset);
  if (limits.timeoutSeconds !== undefined) args.push('--timeout', String(limits.timeoutSeconds));
  args.push('--status-fd', String(STATUS_FD), '--', ...spec.argv);
  return args;
}
