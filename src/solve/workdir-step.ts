// WORKDIR creates its directory when it is missing, owned by the current user, as Docker
// does; when it already exists the step makes no layer.

import { LayeredRoot } from '../exec/layered-root.js';
import { TargetTree } from '../exec/copy/target.js';
import { resolveUser } from '../exec/users.js';
import type { LayerRef } from '../store/types.js';
import { commitUpperDir } from './commit-layer.js';
import type { ImageState } from './image.js';
import { scratchUpper, snapshotDirs, type BuildRuntime } from './runtime.js';

export async function workdirStep(runtime: BuildRuntime, path: string, user: string, parent: ImageState): Promise<LayerRef | null> {
  const lowerDirs = await snapshotDirs(runtime, parent);
  const owner = user === '' ? { uid: 0, gid: 0 } : await resolveUser(new LayeredRoot(lowerDirs), user);
  const scratch = await scratchUpper(runtime, 'workdir');
  try {
    const target = new TargetTree(lowerDirs, scratch.upperDir);
    const dir = await target.resolve(path);
    if ((await target.entry(dir))?.stats.isDirectory()) return null;
    await target.mkdirAll(dir, { mode: 0o755, uid: owner.uid, gid: owner.gid });
    return await commitUpperDir(runtime.store, scratch.upperDir, { sourceDateEpoch: runtime.sourceDateEpoch, kind: 'overlay-upper' });
  } finally {
    await scratch.release();
  }
}
