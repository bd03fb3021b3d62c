// Image assembly: the OCI config and manifest of a built stage, as plain data. Written through
// canonical JSON by the store, so equal content gives equal digests. Base image layers are
// carried as they are (descriptor and diffID), never rewritten.

import type { Descriptor, ContainerConfig, HistoryEntry, ImageConfig, Manifest } from '../layer/oci.js';
import { MediaType } from '../layer/oci.js';
import type { StageConfig, TargetPlatform } from '../plan/types.js';
import type { LayerRef } from '../store/types.js';

/** The filesystem and history after a step: what a build vertex produces. */
export interface ImageState {
  layers: LayerRef[];
  history: HistoryEntry[];
}

export const EMPTY_STATE: ImageState = { layers: [], history: [] };

/** SOURCE_DATE_EPOCH (whole seconds) as RFC 3339, the way Docker writes `created`. */
export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * The state after a step: the parent's, plus the step's layer (if it made one) and its history
 * line (unless Docker writes none for it, as for ONBUILD; a layer always gets one).
 */
export function appendStep(parent: ImageState, layer: LayerRef | null, step: { createdBy: string; noHistory?: boolean }, created: string): ImageState {
  if (!layer && step.noHistory) return parent;
  const entry: HistoryEntry = { created, created_by: step.createdBy, ...(layer ? {} : { empty_layer: true }) };
  return { layers: layer ? [...parent.layers, layer] : parent.layers, history: [...parent.history, entry] };
}

export function containerConfig(config: StageConfig): ContainerConfig {
  const set = (values: string[]) => (values.length ? Object.fromEntries(values.map((v) => [v, {}])) : undefined);
  return definedOnly({
    User: config.user || undefined,
    ExposedPorts: set(config.exposedPorts),
    Env: config.env.length ? config.env : undefined,
    Entrypoint: config.entrypoint ?? undefined,
    Cmd: config.cmd ?? undefined,
    Volumes: set(config.volumes),
    WorkingDir: config.workdir || undefined,
    Labels: Object.keys(config.labels).length ? config.labels : undefined,
    StopSignal: config.stopSignal,
    Healthcheck: config.healthcheck,
    OnBuild: config.onBuild.length ? config.onBuild : undefined,
    Shell: config.explicitShell ? config.shell : undefined,
    ArgsEscaped: config.argsEscaped || undefined,
  });
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export interface ImageConfigInput {
  state: ImageState;
  config: StageConfig;
  platform: TargetPlatform;
  /** RFC 3339, from SOURCE_DATE_EPOCH. */
  created: string;
}

export function imageConfig({ state, config, platform, created }: ImageConfigInput): ImageConfig {
  return {
    created,
    ...(config.author ? { author: config.author } : {}),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: containerConfig(config),
    rootfs: { type: 'layers', diff_ids: state.layers.map((layer) => layer.diffId) },
    history: state.history,
  };
}

export function imageManifest(config: Descriptor, state: ImageState, annotations?: Record<string, string>): Manifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: state.layers.map((layer) => layer.descriptor),
    annotations: annotations && Object.keys(annotations).length ? annotations : undefined,
  };
}
