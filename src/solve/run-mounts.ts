// RUN --mount, turned into the sandbox's plain bind and tmpfs mounts.
//
// - bind: the selected source (from the context, a stage or an image) is first copied into
//   the step's scratch dir by the same copier COPY uses, so symlinks are resolved inside
//   their own root and .dockerignore applies; the copy is mounted, read-only unless `rw`,
//   and what the step writes to it is thrown away with the scratch dir.
// - cache: a directory kept in the store between builds, one per id, never part of a layer;
//   `sharing=locked` waits for the other locked or private users, `private` takes a fresh dir
//   while one holds it (a `shared` user never blocks anyone).
// - tmpfs: an empty tmpfs.
// - secret: the secret's bytes in a scratch file mounted read-only (or in the step's env
//   with `env=`); never in a key, a layer, the history or the log.
// - ssh: a socket of the step's own, relaying to the agent given for the id
//   (exec/ssh-agent-relay.ts), mounted read-only (connecting needs no write access to the mount).
// Mount points never reach the layer: the sandbox makes them in a skeleton lower layer, never
// in the upper dir, which matches current BuildKit (its MountStubsCleaner removes the empty
// stubs and the parents it made, recursively for Dockerfile RUN) without a cleanup pass that
// could follow a symlink the step planted (CVE-2024-23652).

import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { copyIntoLayer } from '../exec/copy/copy.js';
import type { CopySource } from '../exec/copy/types.js';
import type { RelaySocket } from '../exec/ssh-agent-relay.js';
import type { SandboxMount } from '../exec/types.js';
import { digestHex, sha256 } from '../lib/digest.js';
import { acquireLock, withLock, type FileLock } from '../lib/lock.js';
import type { RunMount, RunStep } from '../plan/types.js';
import type { ImageState } from './image.js';
import { localDir, snapshotDirs, type BuildRuntime } from './runtime.js';

/** A secret given on the command line (`--secret id=ID,src=FILE` or `…,env=VAR`). */
export interface SecretSource {
  /** A file to read the secret from. */
  file?: string;
  /** The secret itself (the CLI resolves `env=VAR` to its value). */
  value?: string;
}

export interface PreparedMounts {
  mounts: SandboxMount[];
  /** Extra environment for this step only (secrets with `env=`). */
  env: string[];
  /**
   * Runs `work` while the mounts are live: holding the locks of `sharing=locked` cache mounts;
   * then releases those and closes the step's ssh agent sockets.
   */
  use<T>(work: () => Promise<T>): Promise<T>;
}

export interface MountInputs {
  /** States of the stages and images the mounts read from, by mount index. */
  sources: ReadonlyMap<number, ImageState>;
  scratch: string;
}

export async function prepareMounts(runtime: BuildRuntime, step: RunStep, inputs: MountInputs): Promise<PreparedMounts> {
  const mounts: SandboxMount[] = [];
  const env: string[] = [];
  const locks: string[] = [];
  const held: FileLock[] = [];
  const agentSockets: RelaySocket[] = [];
  const release = async () => {
    await Promise.all([...held.map((lock) => lock.release()), ...agentSockets.map((socket) => socket.close())]);
  };
  try {
    for (const [index, mount] of step.mounts.entries()) {
      switch (mount.type) {
        case 'tmpfs':
          mounts.push({ type: 'tmpfs', target: mount.target, ...(mount.size !== undefined ? { sizeBytes: mount.size } : {}) });
          break;
        case 'bind': {
          const source = await materialize(runtime, mount, inputs.sources.get(index), join(inputs.scratch, `mount-${index}`));
          mounts.push({ type: 'bind', source, target: mount.target, readonly: !mount.readwrite });
          break;
        }
        case 'cache': {
          if (mount.from) throw unsupported(step, 'cache mounts seeded with from=');
          // A subpath of a cache dir other steps write is where BuildKit's CVE-2024-23651 race lived.
          if (mount.source !== undefined && mount.source.replace(/\/+/g, '/') !== '/') throw unsupported(step, 'cache mounts with source= (a subpath of the cache)');
          let dir = await cacheDir(runtime, mount);
          const lock = runtime.store.layout.lock(`cache-mount-${digestHex(sha256(mount.id))}`);
          if (mount.sharing === 'locked') locks.push(lock);
          if (mount.sharing === 'private') {
            // The cache itself when no locked or private step holds it, else a dir of its own.
            const mine = await acquireLock(lock, { timeoutMs: 0, purpose: `cache mount of ${step.instruction}` }).catch(() => undefined);
            if (mine) held.push(mine);
            else dir = await privateCacheDir(join(inputs.scratch, `cache-${index}`), mount);
          }
          mounts.push({ type: 'bind', source: dir, target: mount.target, readonly: mount.readonly });
          break;
        }
        case 'secret': {
          const value = await secretValue(runtime, step, mount);
          if (value === undefined) break;
          if (mount.env !== undefined) {
            env.push(`${mount.env}=${value.toString('utf8')}`);
            break;
          }
          const file = join(inputs.scratch, `secret-${index}`);
          await writeFile(file, value, { mode: 0o600 });
          await chown(file, mount.uid, mount.gid);
          await chmod(file, mount.mode);
          mounts.push({ type: 'bind', source: file, target: mount.target, readonly: true });
          break;
        }
        case 'ssh': {
          const socket = await agentSocket(runtime, step, mount);
          if (socket === undefined) break;
          agentSockets.push(socket);
          mounts.push({ type: 'bind', source: socket.path, target: mount.target, readonly: true });
          break;
        }
      }
    }
  } catch (error) {
    await release();
    throw error;
  }
  return {
    mounts,
    env,
    use: <T>(work: () => Promise<T>) =>
      locks.reduceRight<() => Promise<T>>((inner, lock) => () => withLock(lock, inner, { purpose: `cache mount of ${step.instruction}` }), work)()
        .finally(release),
  };
}

/** sharing=private while the cache is busy: an empty dir for this step alone, gone with its scratch dir. */
async function privateCacheDir(dir: string, mount: Extract<RunMount, { type: 'cache' }>): Promise<string> {
  await mkdir(dir, { mode: mount.mode });
  await chown(dir, mount.uid, mount.gid);
  await chmod(dir, mount.mode);
  return dir;
}

async function materialize(runtime: BuildRuntime, mount: Extract<RunMount, { type: 'bind' }>, from: ImageState | undefined, dir: string) {
  const source: CopySource = localDir(runtime, mount.from)
    ?? { kind: 'layers', lowerDirs: await snapshotDirs(runtime, from ?? { layers: [], history: [] }) };
  await mkdir(dir, { mode: 0o755 });
  await copyIntoLayer({
    source, sources: [mount.source || '/'], exclude: [], parents: false,
    dest: '/m', workdir: '/', lowerDirs: [], upperDir: dir, link: false,
  });
  const path = join(dir, 'm');
  return path;
}

/** One dir per cache id in the store, made with the mount's owner and mode the first time. */
async function cacheDir(runtime: BuildRuntime, mount: Extract<RunMount, { type: 'cache' }>): Promise<string> {
  const dir = runtime.store.layout.cacheMount(mount.id);
  try {
    await mkdir(dir, { recursive: false, mode: mount.mode });
    await chown(dir, mount.uid, mount.gid);
    await chmod(dir, mount.mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      await mkdir(runtime.store.layout.cacheMountsDir, { recursive: true, mode: 0o700 });
      return cacheDir(runtime, mount);
    }
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return dir;
}

async function secretValue(runtime: BuildRuntime, step: RunStep, mount: Extract<RunMount, { type: 'secret' }>): Promise<Buffer | undefined> {
  const source = runtime.secrets[mount.id];
  if (!source) {
    if (!mount.required) return undefined;
    throw new BuildError('E_SECRET_MISSING', `secret "${mount.id}" is required by this step but was not given`, {
      location: step.location,
      hint: `pass it with --secret id=${mount.id},src=FILE (or env=VARIABLE)`,
    });
  }
  if (source.value !== undefined) return Buffer.from(source.value, 'utf8');
  try {
    return await readFile(source.file!);
  } catch (cause) {
    throw new BuildError('E_SECRET_UNREADABLE', `cannot read secret "${mount.id}" from ${source.file}`, { location: step.location, cause });
  }
}

/** The step's socket to the agent of the mount's id; none when the id was not given and is not required. */
async function agentSocket(runtime: BuildRuntime, step: RunStep, mount: Extract<RunMount, { type: 'ssh' }>): Promise<RelaySocket | undefined> {
  if (!runtime.ssh.has(mount.id)) {
    if (!mount.required) return undefined;
    throw new BuildError('E_SSH_MISSING', `ssh agent "${mount.id}" is required by this step but was not given`, {
      location: step.location,
      hint: mount.id === 'default' ? 'pass your agent with --ssh default, or key files with --ssh default=~/.ssh/id_ed25519' : `pass it with --ssh ${mount.id}=KEYFILE or --ssh ${mount.id}=SOCKET`,
    });
  }
  return runtime.ssh.forward(mount.id, mount);
}

function unsupported(step: RunStep, what: string): BuildError {
  return new BuildError('E_MOUNT_UNSUPPORTED', `${what} is not supported yet`, { location: step.location });
}
