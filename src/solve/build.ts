// One build from a plan: vertices from the BuildGraph, the solver over them, then the image
// config and manifest written to the store. Reading the recipe and context, tagging and
// outputs happen around it (src/index.ts).

import type { BuildEvent, EventSink, StepInfo } from '../events.js';
import { StatCache } from '../exec/context/stat-cache.js';
import type { ContextFilter } from '../exec/copy/types.js';
import type { SandboxLimits, SandboxSettings } from '../exec/types.js';
import type { GitEnv } from '../exec/git/cli.js';
import { SshAgents, type SshSource } from '../exec/ssh-forwarding.js';
import { MediaType } from '../layer/oci.js';
import { isFetchedSource, redactUrl } from '../lib/git-url.js';
import type { BuildGraph, PlannedStep, StageConfig } from '../plan/types.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { buildVertices } from './build-vertices.js';
import { GitRefs } from './git-source.js';
import { imageConfig, imageManifest, rfc3339, type ImageState } from './image.js';
import type { SecretSource } from './run-mounts.js';
import type { BuildRuntime, LocalDir } from './runtime.js';
import { Solver } from './solver.js';
import { StepLogRecorder, type ImageStepLogs } from './step-logs.js';

export interface SolveBuildOptions {
  store: ContentStore;
  graph: BuildGraph;
  /** Base images by the ref the plan names them with. */
  bases: ReadonlyMap<string, StoredImage>;
  contextDir: string;
  contextFilter?: ContextFilter;
  /** Where ADD's git finds proxies and an ssh agent (`HTTPS_PROXY`…, `SSH_AUTH_SOCK`). */
  gitEnv?: GitEnv;
  /** The context is a git checkout removed after the build: its file digests are not kept in the store. */
  contextIsTemporary?: boolean;
  /** `--build-context NAME=DIR`, by lower-case name. */
  namedContexts?: ReadonlyMap<string, LocalDir>;
  network: 'none' | 'host';
  limits: SandboxLimits;
  /** `--add-host`, `--shm-size`, `--ulimit`: in every RUN step's sandbox and key. */
  sandbox?: SandboxSettings;
  noCache: boolean;
  /** `--no-cache-filter`: stages (by name or index) whose steps ignore the cache. */
  noCacheStages?: readonly string[];
  sourceDateEpoch: number;
  /** `--label`: added to the image's labels. */
  labels?: Record<string, string>;
  /** `--annotation manifest:…`: on the final image's manifest (not on the images of single steps). */
  manifestAnnotations?: Record<string, string>;
  /** `--secret` sources by id. */
  secrets?: Record<string, SecretSource>;
  /** `--ssh` agents by id: a socket, or key files a per-build ssh-agent holds while the build runs. */
  ssh?: Record<string, SshSource>;
  signal?: AbortSignal;
  sink: EventSink;
  /** Share one solver between builds in a process to share in-flight steps. */
  solver?: Solver;
  /** Steps run at once (`--max-parallelism`); the shared default solver's when absent. */
  maxParallelism?: number;
  /** Also store an image per step (the environment after it), for build archives and replay. */
  recordSteps?: boolean;
}

/** One step as a build archive keeps it. */
export interface RecordedStep {
  info: StepInfo;
  image: StoredImage;
  cached: boolean;
  /** False when the step could reach the network, so a replay may differ. */
  hermetic: boolean;
  /** What an `ADD <url>` read, as resolved: the URL (credentials removed) and its content digest or git commit. */
  fetched?: FetchedSource;
  logFile?: string;
}

export interface FetchedSource {
  uri: string;
  /** `sha256:<hex>` of a URL's content, or `git-commit:<sha>`. */
  digest: string;
}

export interface SolvedImage {
  image: StoredImage;
  stepsCached: number;
  stepsRun: number;
  /** With `recordSteps`: every step of the target's stages, in order. */
  steps?: RecordedStep[];
  /** Every step and its kept log (for `tsbuild logs`). */
  stepLogs: ImageStepLogs;
}

const defaultSolver = new Solver();

/** The `--ssh` agents live as long as the solve: started first, stopped however it ends. */
export async function solveBuild(options: SolveBuildOptions): Promise<SolvedImage> {
  const ssh = await SshAgents.open(options.ssh ?? {});
  try {
    return await solveWithAgents(options, ssh);
  } finally {
    await ssh.close();
  }
}

async function solveWithAgents(options: SolveBuildOptions, ssh: SshAgents): Promise<SolvedImage> {
  const { store, graph } = options;
  // A checkout removed after the build would leave a cache file for a dir that no longer exists.
  const statCache = options.contextIsTemporary
    ? await StatCache.open()
    : await StatCache.open(store.layout.contextCache(options.contextDir), { contextDir: options.contextDir });
  const runtime: BuildRuntime = {
    store,
    graph,
    contextDir: options.contextDir,
    contextFilter: options.contextFilter,
    namedContexts: options.namedContexts ?? new Map(),
    statCache,
    keyContext: { platform: graph.platform, network: options.network, sourceDateEpoch: options.sourceDateEpoch, sandbox: options.sandbox },
    limits: options.limits,
    sourceDateEpoch: options.sourceDateEpoch,
    created: rfc3339(options.sourceDateEpoch),
    secrets: options.secrets ?? {},
    ssh,
    gitRefs: new GitRefs(options.gitEnv),
  };
  const vertices = buildVertices(runtime, options.bases, stageIndexes(graph, options.noCacheStages ?? [], options.sink));
  const counts = { cached: 0, run: 0 };
  const cachedSteps = new Set<number>();
  const logs = new StepLogRecorder(store.layout);
  const sink = logs.wrap((event: BuildEvent) => {
    if (event.type === 'step.cached') {
      counts.cached++;
      cachedSteps.add(event.step);
    }
    if (event.type === 'step.done') counts.run++;
    options.sink(event);
  });
  options.sink({ type: 'build.start', time: Date.now(), steps: vertices.steps });
  try {
    const targets = options.recordSteps ? [vertices.target, ...vertices.stepVertices] : [vertices.target];
    const solver = options.solver ?? (options.maxParallelism === undefined ? defaultSolver : new Solver({ concurrency: options.maxParallelism }));
    const [solved, ...stepResults] = await solver.solve(targets, { signal: options.signal, noCache: options.noCache, sink });
    await logs.flush();
    const image = await writeImage(store, solved!.result, finalConfig(graph, options.labels), runtime, options.manifestAnnotations);
    const stepLogs = { steps: vertices.steps.map((step) => ({ step, ...(logs.logs.has(step.id) ? { logFile: logs.logs.get(step.id)! } : {}) })) };
    const result: SolvedImage = { image, stepsCached: counts.cached, stepsRun: counts.run, stepLogs };
    if (options.recordSteps) {
      result.steps = await Promise.all(vertices.steps.map(async (info, i) => ({
        info,
        image: await writeImage(store, stepResults[i]!.result, vertices.plannedSteps[i]!.config, runtime),
        cached: cachedSteps.has(info.id),
        hermetic: isHermetic(vertices.plannedSteps[i]!, options.network),
        ...fetchedSource(vertices.plannedSteps[i]!, stepResults[i]!.contents),
        ...(logs.logs.has(info.id) ? { logFile: logs.logs.get(info.id)! } : {}),
      })));
    }
    return result;
  } finally {
    await logs.flush();
    await statCache.save();
  }
}

/** An ADD of a URL or git repository: what it fetched, named by the digest its key holds. */
function fetchedSource(step: PlannedStep, contents: readonly string[]): { fetched?: FetchedSource } {
  const url = step.kind === 'add' ? step.sources.find(isFetchedSource) : undefined;
  return url !== undefined && contents[0] !== undefined ? { fetched: { uri: redactUrl(url), digest: contents[0] } } : {};
}

/** A step that could reach the network (RUN with host networking, ADD of a URL) may not replay bit for bit. */
function isHermetic(step: PlannedStep, buildNetwork: 'none' | 'host'): boolean {
  if (step.kind === 'run') return (step.network === 'default' ? buildNetwork : step.network) !== 'host';
  if (step.kind === 'add') return !step.sources.some(isFetchedSource);
  return true;
}

/** Stage names or indexes → the indexes of the stages this build has; a name it lacks is a warning. */
function stageIndexes(graph: BuildGraph, names: readonly string[], sink: EventSink): Set<number> {
  const indexes = new Set<number>();
  for (const name of names) {
    const stage = graph.stages.find((s) => s.name === name.toLowerCase() || String(s.index) === name);
    if (stage) indexes.add(stage.index);
    else sink({ type: 'warning', time: Date.now(), message: `--no-cache-filter names stage "${name}", which this build does not use` });
  }
  return indexes;
}

function finalConfig(graph: BuildGraph, labels: Record<string, string> = {}): StageConfig {
  const stage = graph.stages.find((s) => s.index === graph.target) ?? graph.stages.at(-1)!;
  const config = stage.steps.at(-1)?.config ?? stage.baseConfig;
  return { ...config, labels: { ...config.labels, ...labels } };
}

async function writeImage(store: ContentStore, state: ImageState, config: StageConfig, runtime: BuildRuntime, annotations?: Record<string, string>): Promise<StoredImage> {
  const imageJson = imageConfig({ state, config, platform: runtime.graph.platform, created: runtime.created });
  const configDescriptor = await store.putJson(imageJson, MediaType.ociConfig);
  const manifest = imageManifest(configDescriptor, state, annotations);
  const manifestDescriptor = await store.putJson(manifest, MediaType.ociManifest);
  return { manifestDescriptor, manifest, config: imageJson };
}
