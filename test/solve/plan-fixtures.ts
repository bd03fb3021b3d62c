// Planned steps as plan/ would hand them over, for key and assembly tests.

import { scratchConfig } from '../../src/plan/base-config.js';
import type { CopyStep, RunStep, StageConfig } from '../../src/plan/types.js';

/** The config of a stage on scratch (as plan/ makes it), with `overrides`. */
export function stageConfig(overrides: Partial<StageConfig> = {}): StageConfig {
  return { ...scratchConfig(), ...overrides };
}

const location = { file: 'Dockerfile', line: 2, column: 1 };

export function runStep(script: string, overrides: Partial<RunStep> = {}): RunStep {
  return {
    kind: 'run',
    location,
    instruction: `RUN ${script}`,
    createdBy: `RUN /bin/sh -c ${script} # buildkit`,
    config: stageConfig(),
    args: {},
    command: { form: 'shell', script },
    heredocs: [],
    mounts: [],
    network: 'default',
    security: 'sandbox',
    ...overrides,
  };
}

export function copyStep(sources: string[], dest: string, overrides: Partial<CopyStep> = {}): CopyStep {
  return {
    kind: 'copy',
    location,
    instruction: `COPY ${sources.join(' ')} ${dest}`,
    createdBy: `COPY ${sources.join(' ')} ${dest} # buildkit`,
    config: stageConfig(),
    args: {},
    sources,
    heredocs: [],
    dest,
    from: { kind: 'context' },
    link: false,
    exclude: [],
    parents: false,
    keepGitDir: false,
    ...overrides,
  };
}
