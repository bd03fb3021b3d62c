// WORKDIR creates its directory when it is missing, owned by the current user, as Docker
// does; when it already exists the step makes no layer. BuildKit makes it with a file op
// chowned to the user, so the owner follows --chown's rules (a bare uid gets gid = uid), not
// the process's (gid 0 for a uid without a passwd entry).

import { LayeredRoot } from '../exec/layered-root.js';
import { TargetTree } from '../exec/copy/target.js';
import { resolveChown } from '../exec/users.js';
import type { LayerRef } from '../store/types.js';
import { commitUpperDir } from './commit-layer.js';
import type { ImageState } from './image.js';
import { scratchUpper, snapshotDirs, type BuildRuntime } from './runtime.js';

export async function workdirStep(runtime: BuildRuntime, path: string, user: string, parent: ImageState): Promise<LayerRef | null> {
  const lowerDirs = await snapshotDirs(runtime, parent);
  const owner = user === '' ? { uid: 0, gid: 0 } : await resolveChown(new LayeredRoot(lowerDirs), user);
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
