// Gathers what a build archive records, after a build with recorded steps: the recipe and
// .dockerignore as read, the files the build could read from its context and named contexts,
// resolved args, base images, versions, and every step's environment and log.

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import { release } from 'node:os';
import type { ContextFilter } from '../exec/copy/types.js';
import type { SandboxSettings } from '../exec/types.js';
import type { GitOrigin } from '../lib/git-url.js';
import { sandboxHelperVersion } from '../exec/sandbox.js';
import { formatPlatform } from '../plan/index.js';
import type { BuildGraph } from '../plan/types.js';
import type { SolvedImage } from '../solve/build.js';
import { readIgnoreFile } from '../solve/prepare.js';
import type { LocalDir } from '../solve/runtime.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import type { StoreLayout } from '../store/layout.js';
import { writeBuildArchive } from '../export/build-archive.js';
import type { BuildRecord, NamedContextRecord } from '../export/build-record.js';
import { writeFileAtomically } from '../export/outputs.js';

export interface RecordInputs {
  graph: BuildGraph;
  bases: ReadonlyMap<string, StoredImage>;
  solved: SolvedImage;
  contextDir: string;
  /** Set when the context was a git checkout. */
  contextGit?: GitOrigin;
  /** The Dockerfile's path. */
  recipePath: string;
  contextFilter?: ContextFilter;
  /** `--build-context NAME=DIR`, by lower-case name. */
  namedContexts: ReadonlyMap<string, LocalDir>;
  /** `--build-context NAME=docker-image://REF`: REF by lower-case name. */
  namedImages: ReadonlyMap<string, string>;
  target?: string;
  labels: Record<string, string>;
  manifestAnnotations: Record<string, string>;
  network: 'none' | 'host';
  sandbox: SandboxSettings;
  sourceDateEpoch: number;
  names: string[];
  storeLayout: StoreLayout;
  tsbuildVersion: string;
  startedOn: Date;
  /** `--archive-cache-mounts`: also keep the contents of the cache mounts the build used. */
  cacheMounts?: boolean;
}

export async function collectBuildRecord(inputs: RecordInputs): Promise<BuildRecord> {
  const { graph, solved } = inputs;
  const ignore = await readAppliedIgnoreFile(inputs.recipePath, inputs.contextDir, inputs.contextGit !== undefined);
  return {
    recipe: { name: recipeName(inputs.recipePath, inputs.contextDir), content: graph.source },
    ...(ignore ? { ignoreFile: ignore } : {}),
    contextDir: inputs.contextDir,
    ...(inputs.contextGit ? { contextGit: inputs.contextGit } : {}),
    contextFiles: await listContext(inputs.contextDir, inputs.contextFilter),
    namedContexts: await recordNamedContexts(inputs.namedContexts, inputs.namedImages),
    ...(inputs.target !== undefined ? { target: inputs.target } : {}),
    buildArgs: graph.buildArgs,
    labels: inputs.labels,
    manifestAnnotations: inputs.manifestAnnotations,
    platform: formatPlatform(graph.platform),
    network: inputs.network,
    sandbox: inputs.sandbox,
    sourceDateEpoch: inputs.sourceDateEpoch,
    baseImages: [...inputs.bases].map(([ref, image]) => ({ ref, image })),
    versions: { tsbuild: inputs.tsbuildVersion, helper: sandboxHelperVersion(), kernel: release(), node: process.version },
    startedOn: inputs.startedOn.toISOString(),
    finishedOn: new Date().toISOString(),
    steps: (solved.steps ?? []).map((step) => ({
      ...step.info,
      hermetic: step.hermetic,
      cached: step.cached,
      image: step.image,
      ...(step.fetched ? { fetched: step.fetched } : {}),
      ...(step.logFile ? { logFile: step.logFile } : {}),
    })),
    final: solved.image,
    names: inputs.names,
    ...(inputs.cacheMounts ? { cacheMounts: await usedCacheMounts(inputs.graph, inputs.storeLayout) } : {}),
  };
}

/** The named contexts sorted by name; a dir's files are those its own .dockerignore leaves in. */
async function recordNamedContexts(dirs: ReadonlyMap<string, LocalDir>, images: ReadonlyMap<string, string>): Promise<NamedContextRecord[]> {
  const records: NamedContextRecord[] = [];
  for (const [name, dir] of dirs) {
    records.push({ kind: 'dir', name, dir: dir.path, files: await listContext(dir.path, dir.filter), ...(dir.git ? { git: dir.git } : {}) });
  }
  for (const [name, ref] of images) records.push({ kind: 'image', name, ref });
  return records.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The cache mounts the build's RUN steps name that exist in the store. */
async function usedCacheMounts(graph: BuildGraph, layout: StoreLayout): Promise<Array<{ id: string; dir: string }>> {
  const ids = new Set<string>();
  for (const stage of graph.stages) {
    for (const step of stage.steps) {
      if (step.kind === 'run') for (const mount of step.mounts) if (mount.type === 'cache') ids.add(mount.id);
    }
  }
  return [...ids].sort().map((id) => ({ id, dir: layout.cacheMount(id) })).filter((mount) => existsSync(mount.dir));
}

function recipeName(recipePath: string, contextDir: string): string {
  const rel = relative(contextDir, recipePath);
  return rel.startsWith('..') || isAbsolute(rel) ? basename(recipePath) : rel;
}

/** The .dockerignore the build applied (a git checkout's only from inside it, as prepare reads it). */
async function readAppliedIgnoreFile(recipePath: string, contextDir: string, confined: boolean) {
  const found = await readIgnoreFile(recipePath, contextDir, confined);
  return found && { name: basename(found.path), content: found.content };
}

/** Every path of the context that .dockerignore leaves in, sorted; directories included. */
async function listContext(contextDir: string, filter: ContextFilter | undefined): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(contextDir, rel), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const excluded = filter?.isExcluded(path) ?? false;
      if (!excluded) out.push(path);
      if (entry.isDirectory() && (!excluded || filter?.mayIncludeBelow?.(path))) await walk(path);
    }
  };
  await walk('');
  return out;
}

/** Collects the record and writes the archive to `dest`, which appears only once complete. */
export async function writeBuildArchiveFile(store: ContentStore, inputs: RecordInputs, dest: string): Promise<void> {
  const record = await collectBuildRecord(inputs);
  await writeFileAtomically(dest, (out) => writeBuildArchive(store, record, out));
}
