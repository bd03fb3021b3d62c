// Parsers for the flags that shape every RUN step's sandbox, as `docker buildx build` reads
// them: --add-host, --shm-size, --ulimit, and the sizes of --memory. Each bad value is a usage
// error with an example.

import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { ULIMIT_TYPES, type ExtraHost, type SandboxSettings, type Ulimit, type UlimitType } from '../index.js';
import { ramBytes } from '../lib/ram-size.js';

export interface SandboxFlags {
  addHost: string[];
  /** An array when the flag is repeated: the last one wins, as in buildx. */
  shmSize?: string | string[];
  ulimit: string[];
}

/** The settings the flags give; a field is absent when its flag was not given. */
export function parseSandboxFlags(flags: SandboxFlags): SandboxSettings {
  // A list flag in buildx (a string slice): one value may hold several entries, comma-separated.
  const extraHosts = flags.addHost.flatMap((value) => value.split(',')).map(parseAddHost);
  const shmSize = lastOf(flags.shmSize);
  const shmSizeBytes = shmSize === undefined ? undefined : parseRamSize('--shm-size', shmSize);
  const ulimits = parseUlimits(flags.ulimit);
  return {
    ...(extraHosts.length > 0 ? { extraHosts } : {}),
    ...(shmSizeBytes ? { shmSizeBytes } : {}),
    ...(ulimits.length > 0 ? { ulimits } : {}),
  };
}

const ADD_HOST_HINT = 'write --add-host NAME:IP or NAME=IP, e.g. --add-host db.internal:10.0.0.5 or --add-host db6=[fd00::5]';

/**
 * `NAME=IP` or `NAME:IP` (split at the first `=`, else at the first `:`, so `NAME:::1` works),
 * an IPv6 address bare or in brackets: as buildx reads it.
 */
function parseAddHost(value: string): ExtraHost {
  const at = value.includes('=') ? value.indexOf('=') : value.indexOf(':');
  const name = value.slice(0, Math.max(at, 0));
  const ip = value.slice(at + 1);
  if (at <= 0 || ip === '') throw new UsageError(`invalid --add-host "${value}": expected NAME:IP or NAME=IP`, { hint: ADD_HOST_HINT });
  // The helper's rule too: one field of /etc/hosts, which no value can extend by a field or a line.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) || name.length > 253) {
    throw new UsageError(`invalid --add-host "${value}": "${name}" is not a host name`, { hint: 'a host name is letters, digits, "-", "_" and "."' });
  }
  if (ip === 'host-gateway') {
    throw new UsageError(`--add-host ${name}: tsbuild has no host-gateway address`, {
      hint: `RUN steps reach the host only with --network host, where it is 127.0.0.1: --add-host ${name}:127.0.0.1`,
    });
  }
  return { name, ip: ipAddress(value, ip) };
}

function ipAddress(value: string, text: string): string {
  const ip = /^\[(.+)\]$/.exec(text)?.[1] ?? text;
  // A zone (fe80::1%eth0) names an interface of this host: meaningless in the step.
  if (isIP(ip) === 0 || ip.includes('%')) throw new UsageError(`invalid --add-host "${value}": "${text}" is not an IP address`, { hint: ADD_HOST_HINT });
  return ip;
}

/** A flag's value; an array when the flag is repeated, and then the last wins, as in buildx. */
export function lastOf(value: string | string[] | undefined): string | undefined {
  return [value ?? []].flat().at(-1);
}

/**
 * As Docker reads --memory and --shm-size: binary units (`128m` is 128 MiB, `512MiB` too);
 * for --shm-size 0 means the default, 64 MiB.
 */
export function parseRamSize(flag: string, text: string): number {
  const bytes = ramBytes(text);
  if (bytes === undefined || !Number.isSafeInteger(bytes)) {
    throw new UsageError(`invalid ${flag} "${text}"`, { hint: 'a size in bytes with an optional binary unit: 128m, 1g, 512k' });
  }
  return bytes;
}

const ULIMIT_HINT = `write --ulimit TYPE=SOFT[:HARD], e.g. --ulimit nofile=1024:4096 (TYPE: ${ULIMIT_TYPES.join(', ')}; -1 is unlimited)`;

/**
 * `TYPE=SOFT[:HARD]` as Docker reads it (HARD defaults to SOFT, -1 is unlimited); a later value
 * of a type replaces an earlier one. Sorted by type, so the same limits give the same key.
 */
function parseUlimits(values: string[]): Ulimit[] {
  const byType = new Map<UlimitType, Ulimit>();
  for (const value of values) {
    const ulimit = parseUlimit(value);
    byType.set(ulimit.type, ulimit);
  }
  return [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : 1));
}

function parseUlimit(value: string): Ulimit {
  const eq = value.indexOf('=');
  const type = value.slice(0, Math.max(eq, 0));
  const limits = value.slice(eq + 1).split(':');
  if (eq <= 0 || limits.length > 2) throw new UsageError(`invalid --ulimit "${value}": expected TYPE=SOFT[:HARD]`, { hint: ULIMIT_HINT });
  if (!isUlimitType(type)) throw new UsageError(`invalid --ulimit "${value}": "${type}" is not a limit type`, { hint: ULIMIT_HINT });
  const soft = limitValue(value, limits[0]!);
  const hard = limits.length === 2 ? limitValue(value, limits[1]!) : soft;
  if (hard !== -1 && (soft === -1 || soft > hard)) {
    throw new UsageError(`invalid --ulimit "${value}": the soft limit is above the hard limit`, { hint: ULIMIT_HINT });
  }
  return { type, soft, hard };
}

function isUlimitType(text: string): text is UlimitType {
  return (ULIMIT_TYPES as readonly string[]).includes(text);
}

function limitValue(value: string, text: string): number {
  const limit = /^(-1|\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(limit)) throw new UsageError(`invalid --ulimit "${value}": "${text}" is not a whole number or -1`, { hint: ULIMIT_HINT });
  return limit;
}
