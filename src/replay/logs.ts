// `tsbuild logs`: the whole log of every step (never clipped), for an image built in this
// store or for a build archive.

import { createReadStream, existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { StepInfo } from '../events.js';
import { BuildError } from '../errors.js';
import type { Digest } from '../lib/digest.js';
import { readImageStepLogs } from '../solve/step-logs.js';
import type { Store } from '../store/index.js';
import type { Environment } from './environment.js';

export interface StepLog {
  step: Pick<StepInfo, 'id' | 'stage' | 'index' | 'total' | 'instruction'>;
  /** The log's bytes, or undefined when the step printed nothing or its log was not kept. */
  open?: () => Readable;
}

export async function stepLogs(store: Store, environment: Environment): Promise<StepLog[]> {
  if (environment.archive) {
    return environment.archive.info.steps.map((step) => ({
      step,
      ...(step.log ? { open: () => store.openBlob(step.log as Digest) } : {}),
    }));
  }
  const index = await readImageStepLogs(store.layout, environment.image.manifestDescriptor.digest);
  if (!index) {
    throw new BuildError('E_NO_LOGS', `no build logs are kept for ${environment.label}`, {
      hint: 'logs are kept for images built in this store; for another machine\'s build, use its archive (tsbuild build --archive)',
    });
  }
  return index.steps.map(({ step, logFile }) => ({
    step,
    ...(logFile && existsSync(logFile) ? { open: () => createReadStream(logFile) } : {}),
  }));
}
