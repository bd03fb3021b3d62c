// One build from a plan: vertices from the BuildGraph, the solver over them, then the image
// config and manifest written to the store. Reading the recipe and context, tagging and
// outputs happen around it (src/index.ts).

import { join } from 'node:path';
import type { BuildEvent, EventSink } from '../events.js';
import { StatCache } from '../exec/context/stat-cache.js';
import type { ContextFilter } from '../exec/copy/types.js';
import type { SandboxLimits } from '../exec/types.js';
import { digestHex, sha256 } from '../lib/digest.js';
import { MediaType } from '../layer/oci.js';
import type { BuildGraph, StageConfig } from '../plan/types.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { buildVertices } from './build-vertices.js';
import { imageConfig, imageManifest, rfc3339, type ImageState } from './image.js';
import type { BuildRuntime } from './runtime.js';
import { Solver } from './solver.js';

export interface SolveBuildOptions {
  store: ContentStore;
  graph: BuildGraph;
  /** Base images by the ref the plan names them with. */
  bases: ReadonlyMap<string, StoredImage>;
  contextDir: string;
  contextFilter?: ContextFilter;
  network: 'none' | 'host';
  limits: SandboxLimits;
  noCache: boolean;
  sourceDateEpoch: number;
  /** `--label`: added to the image's labels. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
  sink: EventSink;
  /** Share one solver between builds in a process to share in-flight steps. */
  solver?: Solver;
}

export interface SolvedImage {
  image: StoredImage;
  stepsCached: number;
  stepsRun: number;
}

const defaultSolver = new Solver();

export async function solveBuild(options: SolveBuildOptions): Promise<SolvedImage> {
  const { store, graph } = options;
  const statCache = await StatCache.open(statCacheFile(store, options.contextDir));
  const runtime: BuildRuntime = {
    store,
    graph,
    contextDir: options.contextDir,
    contextFilter: options.contextFilter,
    statCache,
    keyContext: { platform: graph.platform, network: options.network },
    limits: options.limits,
    sourceDateEpoch: options.sourceDateEpoch,
    created: rfc3339(options.sourceDateEpoch),
  };
  const { target, steps } = buildVertices(runtime, options.bases);
  const counts = { cached: 0, run: 0 };
  const sink = (event: BuildEvent) => {
    if (event.type === 'step.cached') counts.cached++;
    if (event.type === 'step.done') counts.run++;
    options.sink(event);
  };
  options.sink({ type: 'build.start', time: Date.now(), steps });
  try {
    const [solved] = await (options.solver ?? defaultSolver).solve([target], { signal: options.signal, noCache: options.noCache, sink });
    const image = await writeImage(store, solved!.result, finalConfig(graph, options.labels), runtime);
    return { image, stepsCached: counts.cached, stepsRun: counts.run };
  } finally {
    await statCache.save();
  }
}

/** File digests of this context's files by stat identity, kept in the store between builds. */
function statCacheFile(store: ContentStore, contextDir: string): string {
  return join(store.root, 'context-cache', `${digestHex(sha256(contextDir))}.json`);
}

function finalConfig(graph: BuildGraph, labels: Record<string, string> = {}): StageConfig {
  const stage = graph.stages.find((s) => s.index === graph.target) ?? graph.stages.at(-1)!;
  const config = stage.steps.at(-1)?.config ?? stage.baseConfig;
  return { ...config, labels: { ...config.labels, ...labels } };
}

async function writeImage(store: ContentStore, state: ImageState, config: StageConfig, runtime: BuildRuntime): Promise<StoredImage> {
  const imageJson = imageConfig({ state, config, platform: runtime.graph.platform, created: runtime.created });
  const configDescriptor = await store.putJson(imageJson, MediaType.ociConfig);
  const manifest = imageManifest(configDescriptor, state);
  const manifestDescriptor = await store.putJson(manifest, MediaType.ociManifest);
  return { manifestDescriptor, manifest, config: imageJson };
}
