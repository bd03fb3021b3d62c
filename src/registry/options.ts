// What a caller may say about how to reach registries. Plain data: the CLI fills it from
// flags and env, the engine passes it through; nothing here reads process state.

import type { EventSink } from '../events.js';
import type { Platform } from '../layer/oci.js';
import type { Credentials } from './credentials.js';
import type { ProxyEnv } from './proxy.js';

export interface RegistryOptions {
  /** `HOST[:PORT]` names allowed over plain HTTP or unverified TLS (`--insecure-registry`). */
  insecureRegistries?: string[];
  /** Extra CA bundles (PEM files) trusted for every registry (`--ca-cert`). */
  caCertFiles?: string[];
  /** Docker's per-registry CA directory: `<certsDir>/HOST:PORT/*.crt`. Default /etc/docker/certs.d. */
  certsDir?: string;
  /**
   * The environment proxies are read from: HTTPS_PROXY, HTTP_PROXY, NO_PROXY and their
   * lower-case forms (see proxy.ts). The CLI passes its env; absent: every connection is direct.
   */
  proxyEnv?: ProxyEnv;
  /** The directory of Docker's config.json (credentials); absent: anonymous access only. */
  dockerConfigDir?: string;
  /** Use these instead of what config.json holds (`tsbuild login` checking new ones). */
  credentials?: Credentials;
  /** Platform chosen from a multi-platform index; default: this host's. */
  platform?: Platform;
  /** Parallel blob transfers; default 4. */
  concurrency?: number;
  /** Attempts after the first on 5xx, 429 and dropped connections; default 4. */
  retries?: number;
  /** First backoff delay, doubled each retry; default 250 ms. */
  retryDelayMs?: number;
  /** Blobs larger than this are uploaded in chunks of this size; default 64 MiB. */
  chunkSize?: number;
  /** Progress as `transfer` events. */
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export const DEFAULTS = {
  certsDir: '/etc/docker/certs.d',
  concurrency: 4,
  retries: 4,
  retryDelayMs: 250,
  chunkSize: 64 << 20,
} as const;
