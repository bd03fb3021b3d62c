// The BuildGraph: what plan/ hands to solve/. Plain data, fully expanded: the solver never
// expands a variable or reads the recipe again. This is the contract between the frontend
// and the engine; extend it, don't reshape it.

import type { SourceLocation } from '../errors.js';

export interface TargetPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** What plan needs to know of a base image before expanding a stage (solve resolves it). */
export interface BaseImageInfo {
  env: string[];
  user?: string;
  workingDir?: string;
  shell?: string[];
  entrypoint?: string[] | null;
  cmd?: string[] | null;
  labels?: Record<string, string>;
  exposedPorts?: string[];
  volumes?: string[];
  stopSignal?: string;
  healthcheck?: HealthcheckSpec;
  /** ONBUILD triggers of the base, run at the start of the stage that uses it. */
  onBuild?: string[];
}

export interface PlanOptions {
  /** Stage name or index to build; the last stage when absent. */
  target?: string;
  buildArgs?: Record<string, string>;
  /** `os/arch[/variant]`; the host's when absent. */
  platform?: string;
  /** The platform the build runs on (BUILDPLATFORM …); the host's when absent. */
  buildPlatform?: string;
  /** Base image configs by the ref written in FROM (after ARG expansion). */
  baseImages?: Record<string, BaseImageInfo>;
  /**
   * `--build-context NAME=…` by lower-case name: they win over stages and images of that name
   * in FROM, COPY --from and RUN --mount from=.
   */
  namedContexts?: Record<string, NamedContext>;
}

/** A named context: a local dir (its path is the engine's business), or another image ref. */
export type NamedContext = { kind: 'dir' } | { kind: 'image'; ref: string };

/** Same field names and units (nanoseconds) as the OCI config's Healthcheck. */
export interface HealthcheckSpec {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The container config in effect after a step; the image config is the last step's. */
export interface StageConfig {
  env: string[];
  user: string;
  /** Absolute; '' when the base image sets none (no WorkingDir in the config; RUN uses /). Scratch has `/`. */
  workdir: string;
  shell: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  labels: Record<string, string>;
  /** `80/tcp`, `53/udp` … */
  exposedPorts: string[];
  volumes: string[];
  stopSignal?: string;
  healthcheck?: HealthcheckSpec;
  onBuild: string[];
  /** True when SHELL set `shell` (here or in the base): only then does the image config record it. */
  explicitShell?: boolean;
  /** Set by CMD (either form), as BuildKit records it. */
  argsEscaped?: boolean;
  /** MAINTAINER: the image's `author`. */
  author?: string;
}

export type StageBase =
  | { kind: 'scratch' }
  | { kind: 'image'; ref: string }
  | { kind: 'stage'; stage: number }
  /** A named local context (`--build-context NAME=DIR`): its files are the stage's root. */
  | { kind: 'named'; name: string };

/** Where COPY --from / RUN --mount from= read: the context, a named local context, another stage, or an image. */
export type FileSource =
  | { kind: 'context' }
  | { kind: 'named'; name: string }
  | { kind: 'stage'; stage: number }
  | { kind: 'image'; ref: string };

export interface Heredoc {
  /** Delimiter word, e.g. `EOF`. */
  name: string;
  content: string;
  /** True when the delimiter was quoted, so the content was not expanded. */
  quoted: boolean;
  /** `<<-`: leading tabs stripped. */
  chomp: boolean;
}

export type RunMount =
  | { type: 'bind'; target: string; source: string; from: FileSource; readwrite: boolean }
  | {
      type: 'cache';
      target: string;
      id: string;
      sharing: 'shared' | 'private' | 'locked';
      from?: FileSource;
      source?: string;
      readonly: boolean;
      uid: number;
      gid: number;
      mode: number;
    }
  | { type: 'tmpfs'; target: string; size?: number }
  /** `target` is '' for a secret given only as an environment variable (`env=VAR`). */
  | { type: 'secret'; id: string; target: string; env?: string; required: boolean; uid: number; gid: number; mode: number }
  /** uid/gid/mode: the owner and mode of the agent socket the step sees (BuildKit: 0, 0, 0600). */
  | { type: 'ssh'; id: string; target: string; required: boolean; uid: number; gid: number; mode: number };

interface StepBase {
  location: SourceLocation;
  /** The instruction as shown to users, after expansion: `RUN make -j2`. */
  instruction: string;
  /** The history `created_by` as Docker writes it, e.g. `RUN /bin/sh -c make # buildkit`. */
  createdBy: string;
  /** Config after this step (for RUN/COPY/ADD: the config they run with, unchanged). */
  config: StageConfig;
  /** Build args in scope: RUN sees them as environment, they are not persisted in the image. */
  args: Record<string, string>;
  /** True when Docker writes no history entry for the step (ONBUILD). */
  noHistory?: boolean;
}

export interface RunStep extends StepBase {
  kind: 'run';
  /** Shell form runs as `[...config.shell, script]`. Heredocs are already folded into the script. */
  command: { form: 'shell'; script: string } | { form: 'exec'; argv: string[] };
  /** Files to provide read-only, mode 0755, at `/dev/pipes/<name>` (a `RUN <<EOF` whose body starts with `#!`). */
  heredocs: Heredoc[];
  mounts: RunMount[];
  /** `default` follows the build's --network. */
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
  /** Proxy build args given (HTTP_PROXY …): in RUN's environment, never in history or cache keys. */
  proxy?: Record<string, string>;
}

export interface CopyStep extends StepBase {
  kind: 'copy' | 'add';
  /** Source paths or patterns as written (after expansion), relative to `from`. URLs for ADD. */
  sources: string[];
  /** Inline files (`COPY <<EOF /dest`): written as files named after the heredoc. */
  heredocs: Heredoc[];
  /** Absolute (resolved against WORKDIR); a trailing `/` means "into this directory". */
  dest: string;
  from: FileSource;
  /** Unresolved `user[:group]`; solve resolves it in the image's /etc/passwd and /etc/group. */
  chown?: string;
  /** Octal (`0755`) or symbolic (`u+x`) as written. */
  chmod?: string;
  link: boolean;
  exclude: string[];
  parents: boolean;
  checksum?: string;
  keepGitDir: boolean;
}

/** ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, STOPSIGNAL, ONBUILD, ARG, MAINTAINER. */
export interface ConfigStep extends StepBase {
  kind: 'config';
  /** The instruction keyword, upper case. */
  keyword: string;
  /** WORKDIR creates its directory (owned by the current user) when missing, as Docker does. */
  createsDir?: string;
}

export type PlannedStep = RunStep | CopyStep | ConfigStep;

export interface PlannedStage {
  /** Index of the stage in the recipe. */
  index: number;
  name?: string;
  base: StageBase;
  platform: TargetPlatform;
  /** Stages this one needs (its base, COPY --from, RUN --mount from=), by recipe index. */
  dependsOn: number[];
  /** Images this stage reads files from (COPY --from=image, mounts from images). */
  imageInputs: string[];
  /** Config inherited from the base, before the first step. */
  baseConfig: StageConfig;
  steps: PlannedStep[];
  location: SourceLocation;
}

export interface PlanWarning {
  message: string;
  location?: SourceLocation;
  /** The BuildKit build-check rule it corresponds to (`# check=skip=<rule>` silences it). */
  rule?: string;
}

export interface BuildGraph {
  file: string;
  source: string;
  platform: TargetPlatform;
  buildPlatform: TargetPlatform;
  /** Recipe index of the target stage. */
  target: number;
  /** Only the stages the target needs, dependencies before dependents. */
  stages: PlannedStage[];
  /** Every build arg that was used, with its resolved value (for provenance; never secrets). */
  buildArgs: Record<string, string>;
  warnings: PlanWarning[];
}
