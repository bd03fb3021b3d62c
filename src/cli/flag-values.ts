// Parsers for flag values shared by several commands (`K=V` pairs, buildx-style secrets and
// ssh agents).

import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { SecretSource, SshSource } from '../index.js';
import type { CliContext } from './context.js';

export function parsePairs(flag: string, values: string[]): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid ${flag} "${value}": expected KEY=VALUE`);
    pairs[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return pairs;
}

/** `id=ID,src=FILE`, `id=ID,env=VAR`, or `id=ID` alone (the variable named ID), as buildx reads them. */
export function parseSecrets(values: string[], ctx: CliContext): Record<string, SecretSource> {
  const secrets: Record<string, SecretSource> = {};
  for (const value of values) {
    const fields = parsePairs('--secret', value.split(','));
    const id = fields.id;
    if (!id) throw new UsageError(`invalid --secret "${value}": id= is missing`, { hint: 'write --secret id=ID,src=FILE' });
    // The same rule as RUN --mount=type=secret,id=…: an id names a file under /run/secrets.
    if (id.includes('/') || id === '.' || id === '..' || /[\0-\x1f]/.test(id)) {
      throw new UsageError(`invalid --secret id "${id}": no "/", "..", or control characters`, { hint: 'use a plain name, e.g. id=npmrc' });
    }
    const file = fields.src ?? fields.source;
    if (file !== undefined) {
      secrets[id] = { file: resolve(ctx.cwd, file) };
      continue;
    }
    const variable = fields.env ?? id;
    const secret = ctx.env[variable];
    if (secret === undefined) throw new UsageError(`--secret ${id}: the environment variable ${variable} is not set`);
    secrets[id] = { value: secret };
  }
  return secrets;
}

/**
 * `default` or `ID` alone (the agent at $SSH_AUTH_SOCK), `ID=SOCKET`, or `ID=KEY[,KEY…]`, as
 * buildx reads them; whether a path is a socket or a key is told when the build starts.
 */
export function parseSshSources(values: string[], ctx: CliContext): Record<string, SshSource> {
  // No prototype: an id such as __proto__ or toString is a key like any other.
  const sources: Record<string, SshSource> = Object.create(null) as Record<string, SshSource>;
  for (const value of values) {
    const eq = value.indexOf('=');
    const id = eq < 0 ? value : value.slice(0, eq);
    if (id === '' || /[\0-\x1f,]/.test(id)) {
      throw new UsageError(`invalid --ssh "${value}": expected default, ID, ID=SOCKET or ID=KEYFILE[,KEYFILE…]`, { hint: 'e.g. --ssh default or --ssh github=~/.ssh/id_ed25519' });
    }
    if (Object.hasOwn(sources, id)) throw new UsageError(`--ssh ${id} is given twice`, { hint: 'give each id once; list several key files as ID=KEY1,KEY2' });
    const paths = eq < 0 ? [] : value.slice(eq + 1).split(',').filter((path) => path !== '');
    sources[id] = { paths: paths.length > 0 ? paths.map((path) => resolve(ctx.cwd, path)) : [agentFromEnvironment(id, ctx)] };
  }
  return sources;
}

function agentFromEnvironment(id: string, ctx: CliContext): string {
  const socket = ctx.env.SSH_AUTH_SOCK;
  if (!socket) {
    throw new UsageError(`--ssh ${id}: SSH_AUTH_SOCK is not set, so there is no agent to forward`, {
      hint: `start one (eval "$(ssh-agent)" && ssh-add), or give key files: --ssh ${id}=~/.ssh/id_ed25519`,
    });
  }
  return resolve(ctx.cwd, socket);
}
