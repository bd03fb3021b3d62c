// Base images come from the store (`tsbuild load` or a pull puts them there; the build pulls
// missing ones through PrepareOptions.fetchBases). Each ref a recipe names is resolved once, before planning, because the
// plan needs the base's config (env, user, workdir, ONBUILD…).

import { BuildError, isTsbuildError } from '../errors.js';
import type { ImageConfig } from '../layer/oci.js';
import type { BaseImageInfo, BuildGraph, FileSource, PlannedStep } from '../plan/types.js';
import type { ContentStore, StoredImage } from '../store/types.js';

export async function findBaseImages(store: ContentStore, refs: readonly string[]): Promise<{ found: Map<string, StoredImage>; missing: string[] }> {
  const found = new Map<string, StoredImage>();
  const missing: string[] = [];
  for (const ref of refs) {
    const image = await store.getImage(ref);
    if (image) found.set(ref, image);
    else missing.push(ref);
  }
  return { found, missing };
}

/** The error for a base image that is not in the store, at the line that names it; `pullFailure`: why fetching it failed. */
export function missingBaseError(ref: string, graph: BuildGraph, pullFailure?: Error): BuildError {
  const stage = graph.stages.find((s) => (s.base.kind === 'image' && s.base.ref === ref) || s.imageInputs.includes(ref));
  // COPY --from=ref and RUN --mount=from=ref name the image on their own line, not at FROM.
  const step = stage?.base.kind === 'image' && stage.base.ref === ref ? undefined : stage?.steps.find((s) => readsImage(s, ref));
  const pullHint = pullFailure ? `, or fix the pull: ${(isTsbuildError(pullFailure) ? pullFailure.hint : undefined) ?? 'check the name and that its registry is reachable'}` : '';
  return new BuildError('E_BASE_IMAGE_MISSING', `base image "${ref}" is not in the store${pullFailure ? `, and pulling it failed: ${pullFailure.message}` : ''}`, {
    location: step?.location ?? stage?.location,
    source: graph.source,
    cause: pullFailure,
    hint: `load it first: tsbuild load ${ref.includes('/') ? 'IMAGE.tar' : `${ref}.tar`} (an OCI layout or docker-save archive)${pullHint}`,
  });
}

function readsImage(step: PlannedStep, ref: string): boolean {
  const isRef = (from: FileSource | undefined) => from?.kind === 'image' && from.ref === ref;
  if (step.kind === 'copy') return isRef(step.from);
  if (step.kind === 'run') return step.mounts.some((mount) => 'from' in mount && isRef(mount.from));
  return false;
}

/** What the planner needs of a base image's config. */
export function baseImageInfo(image: StoredImage): BaseImageInfo {
  const config: NonNullable<ImageConfig['config']> = image.config.config ?? {};
  return {
    env: config.Env ?? [],
    user: config.User,
    workingDir: config.WorkingDir,
    shell: config.Shell,
    entrypoint: config.Entrypoint,
    cmd: config.Cmd,
    labels: config.Labels,
    exposedPorts: config.ExposedPorts ? Object.keys(config.ExposedPorts) : undefined,
    volumes: config.Volumes ? Object.keys(config.Volumes) : undefined,
    stopSignal: config.StopSignal,
    healthcheck: config.Healthcheck?.Test ? { ...config.Healthcheck, Test: config.Healthcheck.Test } : undefined,
    onBuild: config.OnBuild ?? undefined,
  };
}
