// `tsbuild replay ARCHIVE`: rebuild an archived build from the archive alone (recipe, contexts,
// base images; no network, no cache) and compare every step's layers with the archived ones.
// The report names the first step that did not reproduce, its Dockerfile line, and what
// changed in its layer, file by file.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTsbuildError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { Digest } from '../lib/digest.js';
import { prepareBuild } from '../solve/prepare.js';
import { solveBuild } from '../solve/build.js';
import type { SshSource } from '../exec/ssh-forwarding.js';
import type { SecretSource } from '../solve/run-mounts.js';
import type { Store } from '../store/index.js';
import type { StoredImage } from '../store/types.js';
import type { ArchivedBuildInfo } from '../export/build-record.js';
import { archivedImage, openArchive, requireReplayableVersion, restoreSources } from './archive.js';
import { compareSteps, type StepComparison } from './compare.js';
import { diffEntries, readLayerEntries, type FileChange } from './layer-diff.js';

export interface ReplayReport {
  total: number;
  reproduced: number;
  divergent: number[];
  /** The final image's manifest digest, archived and rebuilt (absent when the rebuild failed). */
  image: { archived: Digest; rebuilt?: Digest };
  /** The first step that did not reproduce, with what differs. */
  first?: {
    step: ArchivedBuildInfo['steps'][number];
    layerIndex: number;
    archived?: Digest;
    rebuilt?: Digest;
    changes: FileChange[];
    /** Set when the rebuild failed at this step instead of producing a layer. */
    error?: string;
  };
}

export interface ReplayOptions {
  signal?: AbortSignal;
  sink: EventSink;
  /** Secrets are never archived: a replay that needs them is given them again. */
  secrets?: Record<string, SecretSource>;
  /** Neither are ssh agents. */
  ssh?: Record<string, SshSource>;
}

export async function replayArchive(store: Store, archivePath: string, options: ReplayOptions): Promise<ReplayReport> {
  const archive = await openArchive(store, archivePath);
  requireReplayableVersion(archive);
  const { info } = archive;
  for (const base of info.baseImages) await store.setTag(base.ref, (await archivedImage(store, base.digest)).manifestDescriptor);
  const work = await mkdtemp(join(tmpdir(), 'tsbuild-replay-'));
  try {
    const sources = await restoreSources(store, archive, work);
    const prepared = await prepareBuild(store, {
      contextDir: sources.context, file: sources.recipe, target: info.target, buildArgs: info.buildArgs, platform: info.platform,
      buildContexts: sources.buildContexts,
    });
    let failedStep: number | undefined;
    const sink: EventSink = (event) => {
      if (event.type === 'step.error') failedStep ??= event.step;
      options.sink(event);
    };
    let solved;
    try {
      solved = await solveBuild({
        store, graph: prepared.graph, bases: prepared.bases, contextDir: sources.context, contextFilter: prepared.contextFilter,
        namedContexts: prepared.namedContexts, network: info.network, limits: {}, sandbox: info.sandbox,
        noCache: true, sourceDateEpoch: info.sourceDateEpoch,
        labels: info.labels, manifestAnnotations: info.manifestAnnotations,
        secrets: options.secrets, ssh: options.ssh, signal: options.signal, sink, recordSteps: true,
      });
    } catch (error) {
      if (!isTsbuildError(error) || options.signal?.aborted) throw error;
      return failedReplay(info, failedStep, error.message);
    }
    const rebuilt = (solved.steps ?? []).map((step) => ({ id: step.info.id, diffIds: step.image.config.rootfs.diff_ids, image: step.image }));
    const comparison = compareSteps(info.steps, rebuilt);
    const image = { archived: info.final, rebuilt: solved.image.manifestDescriptor.digest };
    return await reportOf(store, info, comparison, image, new Map(rebuilt.map((s) => [s.id, s.image])));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A rebuild that stopped at a step: that step and every later one did not reproduce. */
function failedReplay(info: ArchivedBuildInfo, failedStep: number | undefined, message: string): ReplayReport {
  const step = info.steps.find((s) => s.id === failedStep) ?? info.steps[0]!;
  const divergent = info.steps.filter((s) => s.id >= step.id).map((s) => s.id);
  return {
    total: info.steps.length,
    reproduced: info.steps.length - divergent.length,
    divergent,
    image: { archived: info.final },
    first: { step, layerIndex: step.diffIds.length - 1, changes: [], error: message },
  };
}

async function reportOf(
  store: Store, info: ArchivedBuildInfo, comparison: StepComparison, image: ReplayReport['image'], rebuilt: Map<number, StoredImage>,
): Promise<ReplayReport> {
  const report: ReplayReport = { total: comparison.total, reproduced: comparison.reproduced, divergent: comparison.divergent, image };
  if (!comparison.first) return report;
  const { step: id, layerIndex } = comparison.first;
  const step = info.steps.find((s) => s.id === id)!;
  const archivedLayer = (await archivedImage(store, step.manifest)).manifest.layers[layerIndex];
  const rebuiltLayer = rebuilt.get(id)?.manifest.layers[layerIndex];
  const entriesOf = async (digest: Digest | undefined) => (digest ? readLayerEntries(store.openBlob(digest)) : new Map());
  const changes = diffEntries(await entriesOf(archivedLayer?.digest), await entriesOf(rebuiltLayer?.digest));
  report.first = { step, layerIndex, archived: comparison.first.archived, rebuilt: comparison.first.rebuilt, changes };
  return report;
}
