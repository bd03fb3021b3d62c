// BuildGraph → solver vertices. Each planned step becomes one vertex whose result is the
// image state after it; a stage starts from scratch, a stored image, or another stage's last
// vertex. Layer-making steps (RUN, COPY/ADD, WORKDIR that creates its dir) are cached by
// key → layer; config instructions are pure and fold into the keys of the steps after them
// through the config those steps carry (step-definitions.ts).

import { BuildError, LayerError, StoreError, type SourceLocation } from '../errors.js';
import type { StepInfo } from '../events.js';
import type { ConfigStep, CopyStep, FileSource, PlannedStage, PlannedStep, RunMount, RunStep } from '../plan/types.js';
import { imageLayers } from '../store/images.js';
import { localRecordKey } from '../store/cache.js';
import type { LayerRef, StoredImage } from '../store/types.js';
import { hashCopySources } from '../exec/context/hash.js';
import { contextLayer, copyContentDigests, copyStep } from './copy-step.js';
import { appendStep, EMPTY_STATE, type ImageState } from './image.js';
import { definitionDigest, type KeyValue } from './key.js';
import { runStep } from './run-step.js';
import { atStep, localDir, type BuildRuntime } from './runtime.js';
import type { ExecContext, Vertex } from './solver.js';
import { copyDefinition, mkdirDefinition, runDefinition } from './step-definitions.js';
import { workdirStep } from './workdir-step.js';

export type BuildVertex = Vertex<ImageState>;
type BindMount = Extract<RunMount, { type: 'bind' }>;

export interface BuildVertices {
  /** The target stage's last vertex: its result is the image. */
  target: BuildVertex;
  steps: StepInfo[];
  /** Each step's vertex and planned step, by step id - 1: what a build archive records. */
  stepVertices: BuildVertex[];
  plannedSteps: PlannedStep[];
}

/** `noCacheStages`: indexes of the stages whose steps ignore the cache (`--no-cache-filter`). */
export function buildVertices(runtime: BuildRuntime, bases: ReadonlyMap<string, StoredImage>, noCacheStages: ReadonlySet<number> = new Set()): BuildVertices {
  const graph = runtime.graph;
  const stageEnds = new Map<number, BuildVertex>();
  const images = new Map<string, BuildVertex>();
  const imageVertex = (ref: string): BuildVertex => {
    let vertex = images.get(ref);
    if (!vertex) {
      const stored = bases.get(ref);
      if (!stored) throw new Error(`base image ${ref} was not resolved before solving`);
      vertex = sourceVertex(`image ${ref}`, { kind: 'image', manifest: stored.manifestDescriptor.digest }, imageState(stored));
      images.set(ref, vertex);
    }
    return vertex;
  };
  const sourceOf = (from: FileSource): BuildVertex | undefined => {
    if (from.kind === 'context' || from.kind === 'named') return undefined;
    if (from.kind === 'image') return imageVertex(from.ref);
    return stageEnd(stageEnds, from.stage);
  };
  const steps: StepInfo[] = [];
  const stepVertices: BuildVertex[] = [];
  const plannedSteps: PlannedStep[] = [];
  for (const stage of graph.stages) {
    let current = baseVertex(runtime, stage, imageVertex, stageEnds);
    // A stage's steps run and are keyed for its own platform (FROM --platform=…).
    const stageRuntime: BuildRuntime = { ...runtime, keyContext: { ...runtime.keyContext, platform: stage.platform } };
    stage.steps.forEach((step, i) => {
      const info: StepInfo = {
        id: steps.length + 1,
        stage: stage.name ?? String(stage.index),
        index: i + 1,
        total: stage.steps.length,
        instruction: step.instruction,
        location: step.location,
      };
      steps.push(info);
      current = stepVertex(stageRuntime, step, info.id, current, sourceOf);
      if (noCacheStages.has(stage.index)) current = { ...current, noCache: true };
      stepVertices.push(current);
      plannedSteps.push(step);
    });
    stageEnds.set(stage.index, current);
  }
  return { target: stageEnd(stageEnds, graph.target), steps, stepVertices, plannedSteps };
}

function stageEnd(ends: Map<number, BuildVertex>, index: number): BuildVertex {
  const vertex = ends.get(index);
  if (!vertex) throw new Error(`stage ${index} is used before it is planned`);
  return vertex;
}

function baseVertex(runtime: BuildRuntime, stage: PlannedStage, imageVertex: (ref: string) => BuildVertex, ends: Map<number, BuildVertex>): BuildVertex {
  const base = stage.base;
  if (base.kind === 'scratch') return sourceVertex('scratch', { kind: 'scratch' }, EMPTY_STATE);
  if (base.kind === 'image') return imageVertex(base.ref);
  if (base.kind === 'named') return namedContextVertex(runtime, base.name, stage.location);
  return stageEnd(ends, base.stage);
}

/** FROM a named local context: its files as one layer on scratch, keyed by their content. */
function namedContextVertex(runtime: BuildRuntime, name: string, location: SourceLocation): BuildVertex {
  const source = localDir(runtime, { kind: 'named', name })!;
  const step = { instruction: `FROM ${name}`, createdBy: `FROM ${name} (named context)`, location };
  const scratch = sourceVertex('scratch', { kind: 'scratch' }, EMPTY_STATE);
  const vertex = layerVertex(runtime, step, undefined, { kind: 'named-context', name }, [scratch], () => contextLayer(runtime, source));
  return {
    ...vertex,
    contentDigests: () => atStep(runtime, location, async () => [await hashCopySources({ source, sources: ['/'], exclude: [], parents: false }, runtime.statCache)]),
  };
}

export function imageState(image: StoredImage): ImageState {
  return { layers: imageLayers(image), history: image.config.history ?? [] };
}

/** A vertex whose result is known up front (scratch, a stored image): always a cache hit. */
function sourceVertex(name: string, definition: KeyValue, state: ImageState): BuildVertex {
  return {
    digest: definitionDigest(definition),
    name,
    inputs: [],
    load: async () => state,
    exec: async () => state,
  };
}

type SourceOf = (from: FileSource) => BuildVertex | undefined;

function stepVertex(runtime: BuildRuntime, step: PlannedStep, id: number, parent: BuildVertex, sourceOf: SourceOf): BuildVertex {
  switch (step.kind) {
    case 'run':
      return runVertex(runtime, step, id, parent, sourceOf);
    case 'copy':
    case 'add':
      return copyVertex(runtime, step, id, parent, sourceOf(step.from));
    case 'config':
      return step.createsDir === undefined ? configVertex(runtime, step, id, parent) : workdirVertex(runtime, step, id, parent, step.createsDir);
  }
}

/** RUN: its inputs are the parent and the stages or images its bind mounts read. */
function runVertex(runtime: BuildRuntime, step: RunStep, id: number, parent: BuildVertex, sourceOf: SourceOf): BuildVertex {
  // Before any cache lookup: Docker runs it only with an entitlement (--allow security.insecure), tsbuild grants none.
  if (step.security === 'insecure') {
    throw new BuildError('E_RUN_INSECURE', 'RUN --security=insecure is not supported: every step runs in the sandbox', {
      location: step.location, source: runtime.graph.source, hint: 'remove --security=insecure',
    });
  }
  const mountInputs = step.mounts.flatMap((mount, index) => {
    const vertex = mount.type === 'bind' ? sourceOf(mount.from) : undefined;
    return vertex ? [{ index, vertex }] : [];
  });
  const vertex = layerVertex(runtime, step, id, runDefinition(step, runtime.keyContext), [parent, ...mountInputs.map((m) => m.vertex)], ([state, ...rest], ctx) =>
    runStep(runtime, step, state!, new Map(mountInputs.map((m, i) => [m.index, rest[i]!])), ctx));
  const localBinds = step.mounts.flatMap((mount) => {
    const source = mount.type === 'bind' ? localDir(runtime, mount.from) : undefined;
    return source ? [{ mount: mount as BindMount, source }] : [];
  });
  if (localBinds.length === 0) return vertex;
  return {
    ...vertex,
    contentDigests: () => atStep(runtime, step.location, () => Promise.all(localBinds.map(({ mount, source }) =>
      hashCopySources({ source, sources: [mount.source || '/'], exclude: [], parents: false }, runtime.statCache)))),
  };
}

function copyVertex(runtime: BuildRuntime, step: CopyStep, id: number, parent: BuildVertex, from: BuildVertex | undefined): BuildVertex {
  const inputs = from ? [parent, from] : [parent];
  const definition = copyDefinition(step, runtime.keyContext);
  const vertex = layerVertex(runtime, step, id, definition, inputs, async ([state, fromState], ctx) => {
    // The last layer this COPY made on this parent, whatever it copied then (from a stage, that
    // stage's result may differ too): only a likely match, as every linked file is compared.
    const lineage = localRecordKey('copy-lineage', definitionDigest({ definition: definitionDigest(definition), parent: ctx.inputKeys[0]! }));
    const layer = await copyStep(runtime, step, state!, fromState, await previousSnapshot(runtime, lineage), ctx.signal);
    await runtime.store.putCacheRecord(lineage, { layer, createdAt: new Date().toISOString() });
    return layer;
  });
  return {
    ...vertex,
    contentDigests: ([, fromState], signal) => atStep(runtime, step.location, () => copyContentDigests(runtime, step, fromState, signal)),
  };
}

function workdirVertex(runtime: BuildRuntime, step: ConfigStep, id: number, parent: BuildVertex, path: string): BuildVertex {
  const definition = mkdirDefinition(path, step.config.user, runtime.keyContext);
  return layerVertex(runtime, step, id, definition, [parent], ([state]) => workdirStep(runtime, path, step.config.user, state!));
}

function configVertex(runtime: BuildRuntime, step: ConfigStep, id: number, parent: BuildVertex): BuildVertex {
  return {
    digest: definitionDigest({ kind: 'config', keyword: step.keyword, instruction: step.instruction }),
    name: step.instruction,
    inputs: [parent],
    step: id,
    pure: true,
    exec: async ([state]) => appendStep(state!, null, step, runtime.created),
    // A record without a layer: only that this instruction ran after this parent before.
    load: async (key, [state]) => ((await runtime.store.getCacheRecord(key)) ? appendStep(state!, null, step, runtime.created) : undefined),
    save: (key) => runtime.store.putCacheRecord(key, { layer: null, createdAt: new Date().toISOString() }),
  };
}

type MakeLayer = (inputs: readonly ImageState[], ctx: ExecContext) => Promise<LayerRef | null>;

/** A step that may make a layer, cached as key → layer (or → no layer) in the store's index. */
function layerVertex(
  runtime: BuildRuntime,
  step: { instruction: string; createdBy: string; noHistory?: boolean; location: SourceLocation },
  /** The step number progress shows; none for a stage's base. */
  id: number | undefined,
  definition: KeyValue,
  inputs: BuildVertex[],
  make: MakeLayer,
): BuildVertex {
  const { store } = runtime;
  const after = (parent: ImageState, layer: LayerRef | null) => appendStep(parent, layer, step, runtime.created);
  return {
    digest: definitionDigest(definition),
    name: step.instruction,
    inputs,
    step: id,
    claim: (key, options) => store.claimStep(key, options),
    async load(key, [parent]) {
      const record = await store.getCacheRecord(key);
      if (!record) return undefined;
      // A store answers only with records whose blob it has, except a record of an imported
      // remote cache: that is a hit as it is, its layer fetched only if a step that runs or
      // the exported image reads it (so cached intermediate stages download nothing).
      const local = record.layer ? await store.hasBlob(record.layer.descriptor.digest) : false;
      if (record.layer && local && !(await snapshotVerifies(runtime, record.layer))) return undefined;
      return after(parent!, record.layer);
    },
    async exec(states, ctx) {
      const layer = await atStep(runtime, step.location, () => make(states, ctx));
      return after(states[0]!, layer);
    },
    async save(key, result) {
      await store.putCacheRecord(key, { layer: ownLayer(result), createdAt: new Date().toISOString() });
    },
    describe(result) {
      const layer = ownLayer(result);
      return layer ? { layer: { diffId: layer.diffId, size: layer.descriptor.size } } : {};
    },
  };
}

/** The layer the last step added, if it added one. */
function ownLayer(state: ImageState): LayerRef | null {
  return state.history.at(-1)?.empty_layer ? null : (state.layers.at(-1) ?? null);
}

/** The snapshot dir of the layer a lineage record names, if there is one and it is sound. */
async function previousSnapshot(runtime: BuildRuntime, lineage: string): Promise<string | undefined> {
  const layer = (await runtime.store.getCacheRecord(lineage))?.layer;
  if (!layer || !(await runtime.store.hasBlob(layer.descriptor.digest)) || !(await snapshotVerifies(runtime, layer))) return undefined;
  return runtime.store.ensureSnapshot(layer);
}

/**
 * A cached layer is used only if its snapshot is there or unpacks to the right diffID; a
 * damaged one is a miss (the step runs again), never a wrong layer.
 */
async function snapshotVerifies(runtime: BuildRuntime, layer: LayerRef): Promise<boolean> {
  try {
    await runtime.store.ensureSnapshot(layer);
    return true;
  } catch (error) {
    // Damaged bytes show as a digest mismatch or, earlier, as a tar the extractor refuses.
    if (error instanceof StoreError && (error.kind === 'corrupt' || error.kind === 'not-found')) return false;
    if (error instanceof LayerError) return false;
    throw error;
  }
}
