// Finding the environment a user names: an image in the store, an archive (its final image),
// or one step of an archive (`ARCHIVE@step`, `--step N`, `--stage NAME`). Shell, diff and logs
// all start here.

import { existsSync, statSync } from 'node:fs';
import { BuildError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { StoredImage } from '../store/types.js';
import type { ArchivedBuildInfo } from '../export/build-record.js';
import { archivedImage, findArchivedStep, openArchive } from './archive.js';

export interface EnvironmentSelector {
  /** An image reference or digest, an archive path, or `ARCHIVE@N` for step N of an archive. */
  target: string;
  step?: number;
  stage?: string;
}

export interface Environment {
  image: StoredImage;
  /** What the user named, for reports. */
  label: string;
  /** Set when the environment came from an archive. */
  archive?: { info: ArchivedBuildInfo; step?: ArchivedBuildInfo['steps'][number] };
}

function splitArchiveStep(target: string): { path: string; step?: number } {
  const at = /^(.*)@(\d+)$/.exec(target);
  if (at && existsSync(at[1]!)) return { path: at[1]!, step: Number(at[2]) };
  return { path: target };
}

export async function resolveEnvironment(store: Store, selector: EnvironmentSelector): Promise<Environment> {
  const { path, step } = splitArchiveStep(selector.target);
  const wantedStep = selector.step ?? step;
  if (existsSync(path) && statSync(path).isFile()) {
    const archive = await openArchive(store, path);
    if (wantedStep === undefined && selector.stage === undefined) {
      return { image: await archivedImage(store, archive.info.final), label: path, archive: { info: archive.info } };
    }
    const found = findArchivedStep(archive.info, { step: wantedStep, stage: selector.stage });
    return {
      image: await archivedImage(store, found.manifest),
      label: `${path}@${found.id}`,
      archive: { info: archive.info, step: found },
    };
  }
  if (wantedStep !== undefined || selector.stage !== undefined) {
    throw new BuildError('E_STEP_NEEDS_ARCHIVE', `--step and --stage select a step of a build archive, and ${selector.target} is not a file`, {
      hint: 'build with --archive FILE to keep every step, then name FILE here',
    });
  }
  const image = await store.getImage(selector.target);
  if (!image) {
    throw new BuildError('E_NO_SUCH_IMAGE', `no image or archive named ${selector.target}`, { hint: 'tsbuild images lists the images in the store' });
  }
  return { image, label: selector.target };
}
