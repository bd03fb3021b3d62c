// tsbuild's library API: the CLI and the tests call only this. Each module adds its exports
// here.

import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { CancelledError, isTsbuildError, type SourceLocation } from './errors.js';
import type { EventSink } from './events.js';
import type { SandboxLimits, SandboxSettings } from './exec/types.js';
import type { GitEnv } from './exec/git/cli.js';
import { imageAnnotations, parseAnnotation, type ImageAnnotations } from './export/annotations.js';
import { dockerSocketPath, loadIntoDocker } from './export/docker-load.js';
import { BUILD_ARCHIVE_TYPE, isDockerLoadOutput, isLayoutOutput, parseOutputSpec, writeOutput, type OutputSpec } from './export/outputs.js';
import { readPackageVersion } from './lib/package-version.js';
import { writeBuildArchiveFile } from './replay/record.js';
import type { Digest } from './lib/digest.js';
import type { BuildGraph } from './plan/types.js';
import { hostPlatform, parsePlatform } from './plan/platform.js';
import { pullBaseImages } from './registry/base-pull.js';
import { openBuildCache, type BuildCache } from './registry/build-cache.js';
import { imageNames, parseImageOutput } from './registry/build-outputs.js';
import { parseCacheFrom, parseCacheTo } from './registry/cache-spec.js';
import type { RegistryOptions } from './registry/options.js';
import { ProgressStream, transferLabel } from './registry/progress.js';
import { pushImage } from './registry/push.js';
import { solveBuild } from './solve/build.js';
import { prepareBuild, type PreparedBuild, type PrepareOptions } from './solve/prepare.js';
import { writeImageStepLogs } from './solve/step-logs.js';
import type { SecretSource } from './solve/run-mounts.js';
import type { SshSource } from './exec/ssh-forwarding.js';
import { imageLayers } from './store/images.js';
import { Store } from './store/store.js';
import type { StoredImage } from './store/types.js';

// Store (src/store): the embedded content store, references, image loading.
export {
  Store,
  defaultStoreRoot,
  load as loadImage,
  describeLoaded,
  hostPlatform,
  imageLayers,
  parseReference,
  formatReference,
  normalizeReference,
  familiarReference,
  repositoryName,
  type CacheRecord,
  type ContentStore,
  type LayerRef,
  type StoredImage,
  type ImageReference,
  type LoadOptions,
  type LoadedImage,
  listImages,
  removeImage,
  inspectImage,
  tagImage,
  prune,
  verify as verifyStore,
  diskUsage,
  parseSize,
  parseDuration,
  formatSize,
  type ImageSummary,
  type InspectResult,
  type PruneOptions,
  type PruneReport,
  type VerifyProblem,
  type VerifyReport,
  type DiskUsage,
  type ImageUsage,
} from './store/index.js';

// Registry (src/registry): pull, push, login/logout, remote cache over the OCI distribution API.
export {
  pullImage,
  pushImage,
  login,
  logout,
  normalizeRegistryName,
  dockerConfigDir,
  exportCache,
  importCache,
  parseCacheFrom,
  parseCacheTo,
  withImportedCache,
  CACHE_ARTIFACT_TYPE,
  type RegistryOptions,
  type PullResult,
  type PushOptions,
  type PushResult,
  type Credentials,
  type CacheExportEntry,
  type CacheExportResult,
  type CacheMode,
  type CacheSource,
  type CacheTarget,
  type ImportedCache,
  type ImportOptions,
} from './registry/index.js';

// Sandbox (src/exec/sandbox.ts): run one step isolated by the native helper.
export { runSandboxed, sandboxHelperPath, sandboxHelperVersion } from './exec/sandbox.js';
export { startsLikeArchive } from './exec/copy/archive.js';
export type { SandboxIO, SandboxLimits, SandboxMount, SandboxResult, SandboxSpec } from './exec/types.js';
export { ULIMIT_TYPES, type ExtraHost, type SandboxSettings, type Ulimit, type UlimitType } from './lib/sandbox-settings.js';

// Recipe frontend (src/recipe, src/plan): Dockerfile text → Recipe → BuildGraph, .dockerignore.
export {
  parseRecipe,
  expandWord,
  expandWords,
  createIgnoreMatcher,
  readIgnorePatterns,
  ignoreFileCandidates,
  type Recipe,
  type Stage,
  type Instruction,
} from './recipe/index.js';
export { planBuild, baseImageRefs, isProxyArg, PROXY_ARG_NAMES, parsePlatform, formatPlatform } from './plan/index.js';
export type * from './plan/types.js';
// Base images from the store, as the build resolves them before planning (tsbuild plan uses it too).
export { findBaseImages, baseImageInfo } from './solve/base-images.js';

// Build engine (src/solve, src/export): Dockerfile + context → image in the store, tags, outputs.
export { Solver, type Vertex, type Solved, type SolveOptions, type ExecContext } from './solve/solver.js';
export { KEY_VERSION, cacheKey, definitionDigest } from './solve/key.js';
export type { SecretSource } from './solve/run-mounts.js';
export type { SshSource } from './exec/ssh-forwarding.js';
export { parseOutputSpec, writeOutput, type OutputSpec } from './export/outputs.js';
export { parseAnnotation, imageAnnotations, type Annotation, type AnnotationType, type ImageAnnotations } from './export/annotations.js';
export { dockerSocketPath, loadIntoDocker, DEFAULT_DOCKER_HOST, type DockerLoadOptions } from './export/docker-load.js';
export { writeOciArchive, writeDockerArchive } from './export/image-archive.js';
export { parseSourceDateEpoch } from './layer/source-date-epoch.js';

// Replay (src/replay): build archives replayed offline, entered with a shell, compared.
export { replayArchive, type ReplayReport } from './replay/replay.js';
export { formatReplayReport } from './replay/report.js';
export { resolveEnvironment, type Environment, type EnvironmentSelector } from './replay/environment.js';
export { runShell, type ShellOptions } from './replay/shell.js';
export { diffEnvironments, formatEnvironmentDiff, type EnvironmentDiff } from './replay/image-diff.js';
export { stepLogs, type StepLog } from './replay/logs.js';

export interface BuildOptions {
  /** The build context directory (the current directory when neither it nor `contextGit` is given). */
  contextDir?: string;
  /**
   * A git URL whose checkout is the context, instead of `contextDir`: `https://host/org/repo.git`,
   * `git://…`, `ssh://…` or `git@host:org/repo.git`, with `#REF:SUBDIR` to pick a branch, tag or
   * commit and a directory. Fetched for this build and removed after it.
   */
  contextGit?: string;
  /**
   * The environment git may read proxies (`HTTPS_PROXY`, `NO_PROXY`…) and an ssh agent
   * (`SSH_AUTH_SOCK`) from, for git contexts and ADD <git url>; the CLI passes its own. Absent: none.
   */
  gitEnv?: GitEnv;
  /** The Dockerfile (`-f`), absolute or relative to the context; CONTEXT/Dockerfile by default. */
  file?: string;
  /** The Dockerfile's text itself (`-f -`: read from stdin); `file` is then not read. */
  recipeText?: string;
  /** `--build-context NAME=VALUE`: a directory (relative to `cwd`), a git URL, or `docker-image://REF`. */
  buildContexts?: Record<string, string>;
  /** The store directory (`--root`). */
  storeRoot: string;
  /** Names to tag the image with (`-t`). */
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  /** `--no-cache-filter`: stages (names or indexes) whose steps run again; the rest may be cached. */
  noCacheStages?: string[];
  /** `--max-parallelism`: how many steps run at once (default: two per CPU). */
  maxParallelism?: number;
  /** RUN steps' network (default none: hermetic). */
  network?: 'none' | 'host';
  limits?: SandboxLimits;
  /** `--add-host`, `--shm-size`, `--ulimit`: every RUN step's sandbox, part of its key and of an archive. */
  sandbox?: SandboxSettings;
  platform?: string;
  /** `--label`: added to the image's labels. */
  labels?: Record<string, string>;
  /**
   * `--annotation` values as buildx spells them: `KEY=VALUE` or `TYPE[,TYPE…]:KEY=VALUE`, TYPE
   * one of manifest, manifest-descriptor, index (these two on OCI layout outputs), optionally
   * `TYPE[os/arch]`.
   */
  annotations?: string[];
  /** `--load` (or an `--output type=docker` without `dest=`): load the image into the Docker daemon at `dockerHost`. */
  load?: boolean;
  /** DOCKER_HOST, for `load`: a `unix://` socket; the default socket when absent. */
  dockerHost?: string;
  /** `--secret` sources by id, for RUN --mount=type=secret: a file to read, or the value itself. */
  secrets?: Record<string, SecretSource>;
  /**
   * `--ssh` agents by id, for RUN --mount=type=ssh: one agent socket, or private key files that a
   * per-build ssh-agent holds while the build runs. Neither reaches a key, the image or an archive.
   */
  ssh?: Record<string, SshSource>;
  /** `--output` values as buildx spells them (`type=oci,dest=out.tar`); relative dests resolve against `cwd`. */
  outputs?: string[];
  /** Where `--output …,dest=-` streams. */
  stdout?: Writable;
  /** `--archive FILE`: the whole build environment, step by step, as one OCI layout tarball. */
  archive?: string;
  /** With an archive: also keep the contents of the build's `RUN --mount=type=cache` dirs. */
  archiveCacheMounts?: boolean;
  cwd?: string;
  /** SOURCE_DATE_EPOCH: image and layer times (default 0). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  /**
   * Base images and registries: `missing` (default) pulls bases the store lacks, `always`
   * pulls every base again (`--pull`), `never` builds offline from the store (`--pull=false`).
   */
  pull?: 'missing' | 'always' | 'never';
  /** `--cache-from` values: `type=registry,ref=REF`, `type=local,src=DIR`, or a bare REF. */
  cacheFrom?: string[];
  /** `--cache-to` values: `type=registry,ref=REF[,mode=min|max]`, `type=local,dest=DIR[,mode=…]`. */
  cacheTo?: string[];
  /** `--push`: push the image to every `-t` name (as `--output type=registry` does to its names). */
  push?: boolean;
  /** How to reach registries (`--insecure-registry`, `--ca-cert`, credentials) for pulls, pushes and caches. */
  registry?: RegistryOptions;
}

export interface BuildResult {
  /** The image manifest's digest: what `-q` prints. */
  digest: Digest;
  /** The config's digest (Docker's image ID). */
  configDigest: Digest;
  image: StoredImage;
  names: string[];
  stepsCached: number;
  stepsRun: number;
}

/**
 * The plan a build would run (`--dry-run`), with base images looked up in the store; a
 * missing base is a warning in the plan, not an error.
 */
export async function planContext(options: Omit<BuildOptions, 'tags' | 'outputs' | 'labels' | 'signal'>): Promise<BuildGraph> {
  const store = await Store.open(options.storeRoot);
  try {
    const prepared = await prepareBuild(store, { ...options, displayDir: options.cwd, allowMissingBases: true });
    await prepared.release();
    return prepared.graph;
  } finally {
    await store.close();
  }
}

/**
 * Builds a Dockerfile into an image in the store: read, plan, solve, tag, write outputs.
 * Progress goes to `sink` as BuildEvents; failures throw TsbuildErrors (and emit build.error).
 */
export async function build(options: BuildOptions, sink: EventSink): Promise<BuildResult> {
  const started = Date.now();
  const cwd = options.cwd ?? options.contextDir ?? process.cwd();
  const imageOutputs = (options.outputs ?? []).map((text) => parseImageOutput(text));
  const fileOutputs = (options.outputs ?? []).filter((_, i) => !imageOutputs[i]);
  const load = options.load === true || fileOutputs.some(isDockerLoadOutput);
  const specs = fileOutputs.filter((text) => !isDockerLoadOutput(text)).map((text) => parseOutputSpec(text, cwd));
  const outputs = specs.filter((spec) => spec.type !== BUILD_ARCHIVE_TYPE);
  const archiveDest = options.archive !== undefined ? resolve(cwd, options.archive) : specs.find((spec) => spec.type === BUILD_ARCHIVE_TYPE)?.dest;
  const { names, push } = imageNames(options.tags ?? [], imageOutputs.filter((o) => o !== undefined), options.push ?? false);
  const cacheFrom = (options.cacheFrom ?? []).map((text) => parseCacheFrom(text, cwd));
  const cacheTo = (options.cacheTo ?? []).map((text) => parseCacheTo(text, cwd));
  const annotations = buildAnnotations(options, outputs);
  const dockerSocket = load ? dockerSocketPath(options.dockerHost) : undefined;
  const registry: RegistryOptions = { ...options.registry, signal: options.signal, onEvent: sink };
  const store = await Store.open(options.storeRoot);
  let cache: BuildCache | undefined;
  let recipeText: string | undefined;
  let prepared: PreparedBuild | undefined;
  try {
    prepared = await prepareBuild(store, { ...options, displayDir: options.cwd, onEvent: sink, ...baseFetching(store, options, registry) });
    const { graph, bases, contextDir, contextGit, contextFilter, recipePath, namedContexts, namedImages } = prepared;
    recipeText = graph.source;
    for (const warning of graph.warnings) sink({ type: 'warning', time: Date.now(), ...warning });
    cache = await openBuildCache(store, cacheFrom, registry);
    const solved = await solveBuild({
      store: cache.store, graph, bases, contextDir, contextIsTemporary: contextGit !== undefined, contextFilter, namedContexts, gitEnv: options.gitEnv,
      network: options.network ?? 'none', limits: options.limits ?? {}, sandbox: options.sandbox,
      noCache: options.noCache ?? false, noCacheStages: options.noCacheStages,
      maxParallelism: options.maxParallelism,
      sourceDateEpoch: options.sourceDateEpoch ?? 0, labels: options.labels, manifestAnnotations: annotations.manifest, secrets: options.secrets, ssh: options.ssh, signal: options.signal, sink,
      recordSteps: archiveDest !== undefined,
    });
    const { image } = solved;
    // Layers only an imported cache had are downloaded now: those of the image (and of each step, for an archive).
    await cache.fetchLayers([image, ...(solved.steps ?? []).map((step) => step.image)].flatMap(imageLayers));
    await writeImageStepLogs(store.layout, image.manifestDescriptor.digest, solved.stepLogs);
    for (const output of outputs) {
      await writeOutput(output, store, image, { names, sourceDateEpoch: options.sourceDateEpoch ?? 0, stdout: options.stdout, annotations });
    }
    if (archiveDest !== undefined) {
      await writeBuildArchiveFile(store, {
        graph, bases, solved, contextDir, contextGit, recipePath, contextFilter, namedContexts, namedImages, target: options.target,
        network: options.network ?? 'none', sandbox: options.sandbox ?? {}, sourceDateEpoch: options.sourceDateEpoch ?? 0, names, labels: options.labels ?? {}, manifestAnnotations: annotations.manifest,
        storeLayout: store.layout, tsbuildVersion: readPackageVersion(), startedOn: new Date(started),
        cacheMounts: options.archiveCacheMounts ?? false,
      }, archiveDest);
    }
    for (const name of names) await store.setTag(name, image.manifestDescriptor);
    // After the tags: an image the daemon refuses is still in the store.
    if (dockerSocket !== undefined) await loadIntoDocker(store, image, { socketPath: dockerSocket, names, signal: options.signal, observe: () => loadProgress(image, sink) });
    for (const name of push) await pushImage(store, name, name, registry);
    if (cacheTo.length > 0) await cache.exportTo(cacheTo, image);
    sink({
      type: 'build.done', time: Date.now(), durationMs: Date.now() - started,
      image: { digest: image.manifestDescriptor.digest, names },
      stepsCached: solved.stepsCached, stepsRun: solved.stepsRun,
      layers: image.manifest.layers.map((layer, i) => ({ diffId: image.config.rootfs.diff_ids[i]!, size: layer.size })),
    });
    return {
      digest: image.manifestDescriptor.digest, configDigest: image.manifest.config.digest, image, names,
      stepsCached: solved.stepsCached, stepsRun: solved.stepsRun,
    };
  } catch (error) {
    const failure = options.signal?.aborted && !(error instanceof CancelledError) ? new CancelledError() : error;
    const located = failure as { location?: SourceLocation; source?: string };
    sink({
      type: 'build.error', time: Date.now(), durationMs: Date.now() - started,
      code: isTsbuildError(failure) ? failure.code : 'E_INTERNAL',
      message: failure instanceof Error ? failure.message : String(failure),
      // A step's error may name its line without the recipe text; the excerpt needs both.
      ...(located.location ? { location: located.location, source: located.source ?? recipeText } : {}),
      ...(isTsbuildError(failure) && failure.hint ? { hint: failure.hint } : {}),
    });
    throw failure;
  } finally {
    cache?.close();
    await prepared?.release();
    await store.close();
  }
}

/** `--annotation` values sorted by where they go; one that no output can carry is refused before the build. */
function buildAnnotations(options: BuildOptions, outputs: readonly OutputSpec[]): ImageAnnotations {
  const platform = options.platform === undefined ? hostPlatform() : parsePlatform(options.platform);
  return imageAnnotations((options.annotations ?? []).flatMap(parseAnnotation), platform, outputs.some(isLayoutOutput));
}

/** `--load`'s transfer line: the archive's bytes as they go to the daemon (its size is not known beforehand). */
function loadProgress(image: StoredImage, sink: EventSink): ProgressStream {
  const digest = image.manifestDescriptor.digest;
  return new ProgressStream(sink, `load:${digest}`, transferLabel('loading', digest), undefined);
}

/** How the build gets base images the store lacks (or all of them, with `pull: 'always'`). */
function baseFetching(store: Store, options: BuildOptions, registry: RegistryOptions): Pick<PrepareOptions, 'fetchBases' | 'refreshBases'> {
  const pull = options.pull ?? 'missing';
  if (pull === 'never') return {};
  const platform = options.platform === undefined ? {} : { platform: parsePlatform(options.platform) };
  return {
    fetchBases: (refs) => pullBaseImages(store, refs, { ...registry, ...platform, strict: pull === 'always' }),
    refreshBases: pull === 'always',
  };
}
