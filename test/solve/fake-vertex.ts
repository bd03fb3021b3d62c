// Fake vertices for solver tests, after BuildKit's scheduler_test.go vtx(): each counts how
// often its cache and exec ran, and can wait, fail or watch its AbortSignal.

import { definitionDigest } from '../../src/solve/key.js';
import type { ExecContext, Vertex } from '../../src/solve/solver.js';

export interface FakeCache {
  records: Map<string, string>;
  /** Claims by key, as the store's step locks would hold them across processes. */
  claims: Map<string, Promise<void>>;
  /** Every claim taken, in order. */
  claimed: string[];
}

export interface FakeOptions {
  name: string;
  /** What exec returns, prefixed to the inputs' results; defaults to the name. */
  value?: string;
  inputs?: FakeVertex[];
  cache: FakeCache;
  step?: number;
  pure?: boolean;
  /** Content digests (as a COPY's sources would give). */
  contents?: string[];
  /** Resolves exec only when this promise does (or the signal aborts). */
  gate?: Promise<void>;
  fail?: Error;
  /** Return only the own value, not the inputs' results after it (for huge graphs). */
  ownValueOnly?: boolean;
  /** Take claims in the cache before running, as a store shared by processes does. */
  claims?: boolean;
  /** Ignore cache hits for this vertex alone (`--no-cache-filter`). */
  noCache?: boolean;
}

export interface FakeVertex extends Vertex<string> {
  cacheCallCount: number;
  execCallCount: number;
  /** Set when exec saw its signal abort. */
  aborted: boolean;
  running: boolean;
}

export function newCache(): FakeCache {
  return { records: new Map(), claims: new Map(), claimed: [] };
}

export function vtx(options: FakeOptions): FakeVertex {
  const value = options.value ?? options.name;
  const vertex: FakeVertex = {
    digest: definitionDigest({ fake: value }),
    name: options.name,
    inputs: options.inputs ?? [],
    step: options.step,
    pure: options.pure,
    noCache: options.noCache,
    cacheCallCount: 0,
    execCallCount: 0,
    aborted: false,
    running: false,
    contentDigests: options.contents ? async () => options.contents! : undefined,
    claim: options.claims ? (key, claimOptions) => claim(options.cache, key, claimOptions.onWait) : undefined,
    async load(key: string) {
      vertex.cacheCallCount++;
      return options.cache.records.get(key);
    },
    async save(key: string, result: string) {
      options.cache.records.set(key, result);
    },
    async exec(inputs: readonly string[], ctx: ExecContext) {
      vertex.execCallCount++;
      vertex.running = true;
      try {
        ctx.log('stdout', `running ${options.name}\n`);
        if (options.gate) await abortable(options.gate, ctx.signal, () => (vertex.aborted = true));
        if (options.fail) throw options.fail;
        return options.ownValueOnly ? value : [value, ...inputs].join('+');
      } finally {
        vertex.running = false;
      }
    },
  };
  return vertex;
}

function abortable(gate: Promise<void>, signal: AbortSignal, onAbort: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    gate.then(resolve, reject);
  });
}

/** Waits while another holder has `key`, telling `onWait` (with a made-up pid) first. */
async function claim(cache: FakeCache, key: string, onWait: (holder: { pid: number }) => void): Promise<{ release(): Promise<void> }> {
  const held = cache.claims.get(key);
  if (held) {
    onWait({ pid: 4242 });
    await held;
  }
  const released = deferred();
  cache.claims.set(key, released.promise);
  cache.claimed.push(key);
  return {
    async release() {
      cache.claims.delete(key);
      released.resolve();
    },
  };
}

/** A promise and its resolver, to hold a fake step until the test lets it go. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
