// The generic solver (BuildKit's solver/): a graph of vertices, each with a definition digest,
// inputs and an exec function. It knows nothing of Dockerfiles, sandboxes or layers; build
// steps are one kind of vertex (solve/build-vertices.ts), test fakes another.
//
// Per vertex: solve the inputs → key = definition + inputs' keys + content digests → cache
// lookup → on a miss, run in the shared p-queue (bounded concurrency; independent branches run
// in parallel) → save. Identical keys in flight run once: in this process through Flights, and
// across processes sharing a cache through the vertex's claim. The first failure aborts the rest
// (running steps see the AbortSignal) and solve() returns only once nothing is running.

import PQueue from 'p-queue';
import { availableParallelism } from 'node:os';
import { CancelledError, StepFailedError, isTsbuildError } from '../errors.js';
import type { EventSink, LayerInfo } from '../events.js';
import { cacheKey } from './key.js';
import { Flights } from './flights.js';

export interface ExecContext {
  /** Aborted when the build is cancelled or a sibling failed; stop promptly. */
  signal: AbortSignal;
  key: string;
  /** The keys of the vertex's inputs, in order (its key without the content digests). */
  inputKeys: readonly string[];
  log(stream: 'stdout' | 'stderr', data: string): void;
}

export interface Vertex<R> {
  /** What this vertex does, as a definition digest (solve/key.ts). */
  readonly digest: string;
  readonly name: string;
  readonly inputs: readonly Vertex<R>[];
  /** The build step number for progress events; vertices without one report nothing. */
  readonly step?: number;
  /**
   * A pure vertex derives its result from its single input without touching files (a config
   * instruction): never queued, and it passes its input's key on, so it invalidates nothing
   * after it. Its load/save, if any, only remember that it ran (for progress).
   */
  readonly pure?: boolean;
  /** Ignore cache hits for this vertex (`--no-cache-filter`); its result is still saved. */
  readonly noCache?: boolean;
  /** Digests of the content the vertex reads (COPY sources), known once the inputs are. */
  contentDigests?(inputs: readonly R[], signal: AbortSignal): Promise<string[]>;
  /**
   * Serialises running `key` with other processes sharing the cache: resolves once this one may
   * run it (calling `onWait` first if it has to wait). The solver then looks in the cache again.
   */
  claim?(key: string, options: { signal: AbortSignal; onWait(holder: { pid: number }): void }): Promise<{ release(): Promise<void> }>;
  /** A cached result for `key`, or undefined on a miss (including a record that fails verification). */
  load?(key: string, inputs: readonly R[]): Promise<R | undefined>;
  exec(inputs: readonly R[], ctx: ExecContext): Promise<R>;
  save?(key: string, result: R): Promise<void>;
  /** What step.done reports about a result. */
  describe?(result: R): { layer?: LayerInfo };
}

export interface Solved<R> {
  key: string;
  result: R;
  /** The content digests that completed the key (what a COPY/ADD read), in the vertex's order. */
  contents: readonly string[];
  /** `cached` when nothing ran for this vertex or anything below it in this solve. */
  outcome: 'cached' | 'executed';
}

export interface SolveOptions {
  signal?: AbortSignal;
  /** Ignore cache hits (results are still saved). */
  noCache?: boolean;
  sink?: EventSink;
}

/** A result this process computed, or found in the cache after waiting for another process's claim. */
interface Ran<R> {
  result: R;
  ranElsewhere: boolean;
}

/** Marks an error as the vertex's own failure, as opposed to a cancellation or an input's failure. */
class OwnFailure {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/**
 * Two steps per CPU: a step is rarely CPU-bound from start to end (it starts processes,
 * waits for disk), and with more steps than CPUs the kernel shares the CPUs out, where a slot
 * per CPU leaves one idle whenever its step lags (measured: four 2 s CPU-bound stages on 2
 * CPUs, 1.85–1.96× serial with 4 slots against 1.58–1.95× with 2).
 */
function defaultConcurrency(): number {
  return 2 * availableParallelism();
}

export class Solver {
  private readonly queue: PQueue;
  private readonly flights = new Flights();

  constructor(options: { concurrency?: number } = {}) {
    this.queue = new PQueue({ concurrency: options.concurrency ?? defaultConcurrency() });
  }

  async solve<R>(targets: readonly Vertex<R>[], options: SolveOptions = {}): Promise<Solved<R>[]> {
    const job = new Job<R>(this.queue, this.flights, options);
    return job.run(targets);
  }
}

class Job<R> {
  private readonly controller = new AbortController();
  private readonly byVertex = new Map<Vertex<R>, Promise<Solved<R>>>();
  private readonly byKey = new Map<string, Promise<Ran<R>>>();
  private firstError: unknown;
  private readonly emit: EventSink;
  private readonly queue: PQueue;
  private readonly flights: Flights;
  private readonly options: SolveOptions;

  constructor(queue: PQueue, flights: Flights, options: SolveOptions) {
    this.queue = queue;
    this.flights = flights;
    this.options = options;
    this.emit = options.sink ?? (() => {});
  }

  async run(targets: readonly Vertex<R>[]): Promise<Solved<R>[]> {
    const external = this.options.signal;
    const onExternalAbort = () => this.fail(new CancelledError());
    if (external?.aborted) throw new CancelledError();
    external?.addEventListener('abort', onExternalAbort, { once: true });
    try {
      const solved = Promise.all(targets.map((target) => this.evaluate(target)));
      solved.catch(() => {}); // failures are reported through firstError below
      // evaluate() registers a vertex's inputs before its first await, so by now every vertex
      // of the graph is in byVertex: waiting for all of them means nothing is left running.
      await Promise.allSettled(this.byVertex.values());
      if (this.firstError !== undefined) throw this.firstError;
      return await solved;
    } finally {
      external?.removeEventListener('abort', onExternalAbort);
    }
  }

  private fail(error: unknown): void {
    if (this.firstError !== undefined) return;
    this.firstError = error;
    this.controller.abort(error);
  }

  private evaluate(vertex: Vertex<R>): Promise<Solved<R>> {
    let promise = this.byVertex.get(vertex);
    if (!promise) {
      promise = this.evaluateOnce(vertex).catch((caught: unknown) => {
        const own = caught instanceof OwnFailure;
        const error = own ? caught.error : caught;
        if (vertex.step !== undefined) this.reportFailure(vertex.step, error, own);
        this.fail(error);
        throw error;
      });
      this.byVertex.set(vertex, promise);
    }
    return promise;
  }

  private reportFailure(step: number, error: unknown, own: boolean): void {
    const time = Date.now();
    if (!own || error instanceof CancelledError) {
      this.emit({ type: 'step.cancelled', time, step });
      return;
    }
    const exitStatus = error instanceof StepFailedError && error.failure.kind === 'exit' ? error.failure.status : undefined;
    this.emit({
      type: 'step.error',
      time,
      step,
      code: isTsbuildError(error) ? error.code : 'E_INTERNAL',
      message: error instanceof Error ? error.message : String(error),
      ...(exitStatus === undefined ? {} : { exitStatus }),
    });
  }

  private async evaluateOnce(vertex: Vertex<R>): Promise<Solved<R>> {
    const inputs = await Promise.all(vertex.inputs.map((input) => this.evaluate(input)));
    const signal = this.controller.signal;
    if (signal.aborted) throw new CancelledError();
    const results = inputs.map((input) => input.result);
    const inputsCached = inputs.every((input) => input.outcome === 'cached');

    if (vertex.pure) return this.evaluatePure(vertex, inputs, signal);

    const contents = vertex.contentDigests ? await this.own(vertex.contentDigests(results, signal)) : [];
    const key = cacheKey(vertex.digest, inputs.map((input) => input.key), contents);
    const cached = (hit: R): Solved<R> => {
      this.reportSuccess(vertex, hit, 'cached', 0, key);
      return { key, result: hit, contents, outcome: inputsCached ? 'cached' : 'executed' };
    };
    if (!this.ignoresCache(vertex) && vertex.load) {
      const hit = await this.own(vertex.load(key, results));
      if (hit !== undefined) return cached(hit);
    }
    let run = this.byKey.get(key);
    let startedAt = Date.now();
    if (!run) {
      run = this.runShared(vertex, key, inputs.map((input) => input.key), results, () => {
        startedAt = Date.now();
        if (vertex.step !== undefined) this.emit({ type: 'step.start', time: startedAt, step: vertex.step });
      });
      this.byKey.set(key, run);
    }
    const { result, ranElsewhere } = await run;
    if (ranElsewhere) return cached(result);
    this.reportSuccess(vertex, result, 'executed', Date.now() - startedAt, key);
    return { key, result, contents, outcome: 'executed' };
  }

  /**
   * A pure vertex runs at once, outside the queue, and passes its input's key on. Its own key
   * (definition + input key) only remembers that it ran before, so that progress can say
   * CACHED for it exactly when nothing about it is new.
   */
  private async evaluatePure(vertex: Vertex<R>, inputs: Solved<R>[], signal: AbortSignal): Promise<Solved<R>> {
    const [input] = inputs;
    if (!input || inputs.length !== 1) throw new TypeError(`pure vertex ${vertex.name} needs exactly one input`);
    const results = [input.result];
    const ownKey = cacheKey(vertex.digest, [input.key], []);
    const seen = !this.ignoresCache(vertex) && vertex.load !== undefined && (await this.own(vertex.load(ownKey, results))) !== undefined;
    const result = await this.own(vertex.exec(results, { signal, key: ownKey, inputKeys: [input.key], log: () => {} }));
    if (!seen) await this.own(vertex.save?.(ownKey, result) ?? Promise.resolve());
    const outcome = seen && input.outcome === 'cached' ? 'cached' : 'executed';
    if (outcome === 'executed' && vertex.step !== undefined) this.emit({ type: 'step.start', time: Date.now(), step: vertex.step });
    this.reportSuccess(vertex, result, outcome, 0);
    return { key: input.key, result, contents: [], outcome };
  }

  private runShared(vertex: Vertex<R>, key: string, inputKeys: readonly string[], inputs: readonly R[], onStart: () => void): Promise<Ran<R>> {
    const step = vertex.step;
    const log = (stream: 'stdout' | 'stderr', data: string) => {
      if (step !== undefined) this.emit({ type: 'step.log', time: Date.now(), step, stream, data });
    };
    const queued = (signal: AbortSignal, started: () => void) => {
      let running: Promise<R> | undefined;
      const task = this.queue.add(
        () => {
          signal.throwIfAborted();
          started();
          running = vertex.exec(inputs, { signal, key, inputKeys, log }).then(async (result) => {
            await vertex.save?.(key, result);
            return result;
          });
          return running;
        },
        { signal },
      );
      // The signal takes a waiting task out of the queue, but p-queue also rejects a running
      // one at once: wait for that one to stop, so its clean-up is done when we return.
      return task.catch((error: unknown) => {
        if (running) return running;
        throw error;
      });
    };
    // The claim is taken before the queue, so a queue slot never waits on another process.
    const work = async (signal: AbortSignal, started: () => void): Promise<Ran<R>> => {
      const claim = this.ignoresCache(vertex) ? undefined : await vertex.claim?.(key, {
        signal,
        onWait: (holder) => {
          started();
          log('stderr', `waiting for process ${holder.pid}, which is running this same step\n`);
        },
      });
      try {
        const hit = claim ? await vertex.load?.(key, inputs) : undefined;
        if (hit !== undefined) return { result: hit, ranElsewhere: true };
        return { result: await queued(signal, started), ranElsewhere: false };
      } finally {
        await claim?.release();
      }
    };
    return this.flights.run(key, this.controller.signal, work, onStart).catch((error: unknown) => {
      if (this.controller.signal.aborted) throw new CancelledError();
      throw new OwnFailure(error);
    });
  }

  private ignoresCache(vertex: Vertex<R>): boolean {
    return this.options.noCache === true || vertex.noCache === true;
  }

  private async own<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      if (this.controller.signal.aborted) throw new CancelledError();
      throw new OwnFailure(error);
    }
  }

  private reportSuccess(vertex: Vertex<R>, result: R, outcome: 'cached' | 'executed', durationMs: number, cacheKey?: string): void {
    if (vertex.step === undefined) return;
    const time = Date.now();
    const keyed = cacheKey === undefined ? {} : { cacheKey };
    if (outcome === 'cached') {
      this.emit({ type: 'step.cached', time, step: vertex.step, ...keyed });
      return;
    }
    const layer = vertex.describe?.(result).layer;
    this.emit({ type: 'step.done', time, step: vertex.step, durationMs, ...(layer ? { layer } : {}), ...keyed });
  }
}
