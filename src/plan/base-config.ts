// The config a stage starts from: scratch's (BuildKit gives it a default PATH and /), a base
// image's as solve resolved it, or another stage's final config.

import type { BaseImageInfo, StageConfig } from './types.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

export function emptyConfig(env: string[] = []): StageConfig {
  return {
    env,
    user: '',
    workdir: '',
    shell: [...DEFAULT_SHELL],
    entrypoint: null,
    cmd: null,
    labels: {},
    exposedPorts: [],
    volumes: [],
    onBuild: [],
  };
}

/** BuildKit's empty image: the default PATH and `/` as the working directory. */
export function scratchConfig(): StageConfig {
  return { ...emptyConfig([`PATH=${DEFAULT_PATH}`]), workdir: '/' };
}

/** A base image's config; its ONBUILD triggers run in the new stage and are not inherited. */
export function imageConfig(info: BaseImageInfo): StageConfig {
  const config = emptyConfig([...info.env]);
  config.user = info.user ?? '';
  config.workdir = info.workingDir ?? '';
  if (info.shell && info.shell.length > 0) {
    config.shell = [...info.shell];
    config.explicitShell = true;
  }
  config.entrypoint = info.entrypoint ? [...info.entrypoint] : null;
  config.cmd = info.cmd ? [...info.cmd] : null;
  config.labels = { ...info.labels };
  config.exposedPorts = [...(info.exposedPorts ?? [])];
  config.volumes = [...(info.volumes ?? [])];
  if (info.stopSignal !== undefined) config.stopSignal = info.stopSignal;
  if (info.healthcheck !== undefined) config.healthcheck = structuredClone(info.healthcheck);
  return config;
}

/** Another stage's final config, minus its ONBUILD triggers (BuildKit drops them too). */
export function stageConfig(final: StageConfig): StageConfig {
  const config = structuredClone(final);
  config.onBuild = [];
  return config;
}
