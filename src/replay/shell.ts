// `tsbuild shell`: a throwaway sandbox over an environment's layers (an image, or a step of an
// archive), with its env, user and workdir, running a shell or a command. Writes go to a
// scratch upper dir that is removed afterwards.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LayeredRoot, resolveUser } from '../exec/index.js';
import { runSandboxed } from '../exec/sandbox.js';
import type { SandboxResult } from '../exec/types.js';
import { imageLayers, type Store } from '../store/index.js';
import type { Environment } from './environment.js';

export interface ShellOptions {
  /** The command; the image's shell (`/bin/sh`) when empty. */
  command: string[];
  tty: boolean;
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export async function runShell(store: Store, environment: Environment, options: ShellOptions): Promise<SandboxResult> {
  const config = environment.image.config.config ?? {};
  const lowerDirs = await Promise.all(imageLayers(environment.image).map((layer) => store.ensureSnapshot(layer)));
  const user = await resolveUser(new LayeredRoot(lowerDirs), config.User || 'root');
  const scratch = await store.createTempDir('shell');
  try {
    const upperDir = join(scratch.path, 'upper');
    const workDir = join(scratch.path, 'work');
    await mkdir(upperDir);
    await mkdir(workDir);
    return await runSandboxed(
      {
        lowerDirs, upperDir, workDir,
        argv: options.command.length > 0 ? options.command : ['/bin/sh'],
        env: config.Env ?? [],
        cwd: config.WorkingDir || '/',
        uid: user.uid, gid: user.gid, groups: user.groups,
        hostname: 'tsbuild-shell',
        network: 'none',
        // An archived build's --add-host, --shm-size and --ulimit, as its RUN steps had them.
        ...environment.archive?.info.sandbox,
        interactive: true,
        tty: options.tty,
      },
      { signal: options.signal, onStdout: options.onStdout, onStderr: options.onStderr },
    );
  } finally {
    await scratch.release();
  }
}
