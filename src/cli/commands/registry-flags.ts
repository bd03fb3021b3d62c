// The flags every registry verb shares (pull, push, login) and how they become
// RegistryOptions: Docker's names and meanings, credentials from $DOCKER_CONFIG, proxies
// from the environment.

import type { Argv } from 'yargs';
import type { EventSink } from '../../events.js';
import { dockerConfigDir, type RegistryOptions, type Store } from '../../index.js';
import { chooseProgressMode, createRenderer, type RequestedProgressMode } from '../../ui/index.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { withStore } from './store.js';

export interface RegistryFlags {
  insecureRegistry?: string[];
  caCert?: string[];
}

export interface ProgressFlags {
  progress: RequestedProgressMode;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function registryFlags(y: Argv<any>): Argv<any> {
  return y
    // Repeated flags, not yargs arrays: an array option would swallow the positional after it.
    .option('insecure-registry', {
      type: 'string',
      coerce: asList,
      describe: 'HOST[:PORT] reachable over plain HTTP or TLS without verification (repeatable); loopback hosts may use HTTP anyway',
    })
    .option('ca-cert', { type: 'string', coerce: asList, describe: 'Also trust the CA certificates in this PEM file (repeatable); /etc/docker/certs.d/HOST:PORT/*.crt are read too' });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function progressFlag(y: Argv<any>): Argv<any> {
  return y.option('progress', { choices: ['auto', 'plain', 'json', 'quiet'] as const, default: 'auto' as const, describe: 'Transfer progress on stderr' });
}

function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : [value].flat();
}

export function registryOptions(args: RegistryFlags, ctx: CliContext): RegistryOptions {
  return {
    insecureRegistries: args.insecureRegistry ?? [],
    caCertFiles: (args.caCert ?? []).map((file) => (file.startsWith('/') ? file : `${ctx.cwd}/${file}`)),
    dockerConfigDir: dockerConfigDir(ctx.env),
    proxyEnv: ctx.env, // HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as dockerd and curl read them
    signal: ctx.signal,
  };
}

/**
 * Runs a transfer (pull, push) on the store of the global options, with its progress drawn
 * on stderr: plain lines on a terminal too, since the live view is drawn around build steps.
 */
export async function withTransfer<T>(args: GlobalOptions & ProgressFlags, ctx: CliContext, fn: (store: Store, onEvent: EventSink) => Promise<T>): Promise<T> {
  const mode = chooseProgressMode(args.progress, ctx.stderrIsTTY);
  const renderer = createRenderer(mode === 'tty' ? 'plain' : mode, { out: ctx.stderr, color: ctx.stderrIsTTY && !ctx.env.NO_COLOR });
  return withStore(args, ctx, async (store) => {
    try {
      return await fn(store, renderer.sink);
    } finally {
      await renderer.finish();
    }
  });
}
