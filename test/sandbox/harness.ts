// Shared by the adversarial sandbox suite: a scratch area, step dirs, the probe payload, the
// two modes (root, and rootless through setpriv as a user the suite creates), and host-side
// checks for leftovers.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runSandboxed, sandboxHelperPath, type SandboxRunOptions } from '../../src/exec/sandbox.js';
import type { SandboxResult, SandboxSpec } from '../../src/exec/types.js';
import { REPO_ROOT, busyboxRootfs } from '../helpers/fixtures.js';

export const PROBE = resolve(REPO_ROOT, 'native/build/probe');
export const ROOTLESS_USER = 'tsbuild-rootless';
/** A system user: useradd gives it no subordinate ids, so the helper maps a single id. */
export const SINGLE_ID_USER = 'tsbuild-single';

/** Builds the helper and the probe if needed (the suite may run before `npm run build`);
 * under a lock, since several test files start at once. */
export function buildNative(): void {
  const native = resolve(REPO_ROOT, 'native');
  execFileSync('flock', [join(native, 'Makefile'), 'make', '-s', '-C', native, 'all', 'probe'], { stdio: 'inherit' });
}

export interface Mode {
  name: 'root' | 'rootless';
  /** Owner of the dirs a step writes to. */
  uid: number;
  gid: number;
  run: SandboxRunOptions;
  /** The busybox base for this mode. Rootless, the image's files must belong to ids mapped in
   * the step's user namespace (root inside = the user outside), or overlay cannot copy them up. */
  rootfs: () => string;
}

export const rootMode: Mode = { name: 'root', uid: 0, gid: 0, run: {}, rootfs: busyboxRootfs };

/**
 * A copy of the busybox root owned by uid:gid, made once and kept for later runs (as the
 * fixture cache is): in /tmp, where the rootless user can reach it. Made in a temp dir and
 * renamed into place, so test files starting at once never see half a copy.
 */
function rootfsOwnedBy(uid: number, gid: number): () => string {
  return () => {
    // Named by what the fixture is made from (its script and the host's busybox), so clones and
    // later runs share one copy, and a changed fixture gets a new one.
    const dir = `/tmp/tsbuild-sandbox-rootfs-${uid}-${fixtureVersion()}`;
    if (existsSync(join(dir, 'bin/busybox'))) return dir;
    const staging = mkdtempSync(`${dir}.new-`);
    chmodSync(staging, 0o755);
    execFileSync('cp', ['-a', `${busyboxRootfs()}/.`, staging]);
    execFileSync('chown', ['-R', '-h', `${uid}:${gid}`, staging]);
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another test file made it first
    }
    return dir;
  };
}

function fixtureVersion(): string {
  const script = readFileSync(resolve(REPO_ROOT, 'fixtures/base/make-busybox-rootfs.sh'));
  const busybox = statSync('/bin/busybox');
  return createHash('sha256').update(script).update(`${busybox.size}:${busybox.mtimeMs}`).digest('hex').slice(0, 16);
}

/**
 * The rootless mode, or the reason it cannot run here. Creates the user once (with
 * subordinate ids unless `system`); the helper then runs under `setpriv` as that user.
 */
export function rootlessMode(user = ROOTLESS_USER, system = false): Mode | string {
  if (process.getuid?.() !== 0) return 'the suite is not running as root, so it cannot create a user';
  if (spawnSync('id', [user]).status !== 0) {
    const made = spawnSync('useradd', ['-M', ...(system ? ['-r'] : []), '-s', '/usr/sbin/nologin', user], { encoding: 'utf8' });
    if (made.status !== 0) return `useradd failed: ${made.stderr.trim()}`;
  }
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }));
  const mode: Mode = {
    name: 'rootless',
    uid,
    gid,
    run: { launcher: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'] },
    rootfs: rootfsOwnedBy(uid, gid),
  };
  const probe = spawnSync('setpriv', [...mode.run.launcher!.slice(1), sandboxHelperPath(), '--root', '/', '--', '/bin/true'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return `the kernel refuses an unprivileged sandbox here: ${probe.stderr.trim()}`;
  return mode;
}

/** `mode` if it is available, else prints why its tests are skipped (or fails under
 * TSBUILD_SANDBOX_MUST_WORK=1, as bubblewrap's BWRAP_MUST_WORK). */
export function available(mode: Mode | string, what: string): Mode[] {
  if (typeof mode !== 'string') return [mode];
  if (process.env.TSBUILD_SANDBOX_MUST_WORK === '1') throw new Error(`${what} unavailable: ${mode}`);
  console.warn(`skipping ${what} sandbox tests: ${mode}`);
  return [];
}

/** The modes every adversarial case runs in: root, and rootless where the kernel allows it. */
export function modesToTest(): Mode[] {
  return [rootMode, ...available(rootlessMode(), 'rootless')];
}

/** A scratch dir under /tmp that every mode can traverse; removed by `dispose`. */
export class Scratch {
  readonly dir: string;
  private counter = 0;

  constructor() {
    this.dir = mkdtempSync('/tmp/tsbuild-sandbox-');
    chmodSync(this.dir, 0o755);
  }

  /** A fresh dir (owned by the mode's user when given). */
  mkdir(name: string, owner?: Mode): string {
    const path = join(this.dir, name);
    mkdirSync(path, { recursive: true });
    if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
    return path;
  }

  /** Upper and work dirs for one step. */
  stepDirs(mode: Mode): { upperDir: string; workDir: string } {
    const name = `step-${this.counter++}`;
    this.mkdir(name, mode);
    return { upperDir: this.mkdir(`${name}/upper`, mode), workDir: this.mkdir(`${name}/work`, mode) };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface StepRun extends SandboxResult {
  stdout: string;
  stderr: string;
  spec: SandboxSpec;
}

/** A spec over busybox with the probe at /probe, for `mode`. */
export function stepSpec(scratch: Scratch, mode: Mode, argv: string[], extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    lowerDirs: [mode.rootfs()],
    ...scratch.stepDirs(mode),
    argv,
    env: ['PATH=/bin:/usr/bin:/sbin'],
    cwd: '/',
    uid: 0,
    gid: 0,
    network: 'none',
    mounts: [{ type: 'bind', source: PROBE, target: '/probe', readonly: true }],
    ...extra,
  };
}

export async function runStep(mode: Mode, spec: SandboxSpec): Promise<StepRun> {
  let stdout = '';
  let stderr = '';
  const result = await runSandboxed(
    spec,
    { onStdout: (c) => (stdout += c.toString()), onStderr: (c) => (stderr += c.toString()) },
    mode.run,
  );
  return { ...result, stdout, stderr, spec };
}

export function sh(scratch: Scratch, mode: Mode, script: string, extra: Partial<SandboxSpec> = {}): Promise<StepRun> {
  return runStep(mode, stepSpec(scratch, mode, ['/bin/sh', '-c', script], extra));
}

/**
 * Mount points on the host where a leak of the helper would show: its staging dir (/tmp in its
 * own namespace) and the suite's dirs. Other suites' mounts under /tmp (a store on a small
 * tmpfs) are not the helper's and may come and go while this suite runs.
 */
export function hostTmpMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === '/tmp' || /^\/tmp\/(root|skel|files|tsbuild-sandbox)/.test(point))
    .sort();
}

function isAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Step cgroups whose helper is gone: nothing removed them. */
export function leftoverCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) {
      const helper = /^tsbuild-sandbox-(\d+)$/.exec(name);
      if (helper !== null) {
        if (!isAlive(Number(helper[1]))) found.push(join(dir, name));
      } else if (depth < 6) {
        walk(join(dir, name), depth + 1);
      }
    }
  };
  for (const controller of ['memory', 'pids', 'cpu', 'cpuset', 'unified']) walk(`/sys/fs/cgroup/${controller}`, 0);
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) walk('/sys/fs/cgroup', 0);
  return found.sort();
}

/** A /proc file of `pid`, or '' once the process is gone (other test files run steps meanwhile). */
function procFile(pid: string, name: string): string {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return '';
  }
}

function cmdline(pid: string): string {
  return procFile(pid, 'cmdline').replace(/\0+/g, ' ').trim();
}

/** Host processes whose command line contains `marker`. */
export function processesMatching(marker: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid) && Number(pid) !== process.pid)
    .map((pid) => `${pid}: ${cmdline(pid)}`)
    .filter((line) => line.includes(marker));
}

/** Asserts that the steps run since `mountsBefore` was taken left nothing on the host. */
export function hostIsClean(mountsBefore: string[]): { mounts: string[]; cgroups: string[]; inits: string[] } {
  return { mounts: hostTmpMounts().filter((m) => !mountsBefore.includes(m)), cgroups: leftoverCgroups(), inits: orphanedInits() };
}

/** A step's PID 1 whose helper is gone: it would keep the step's processes alive. */
export function orphanedInits(): string[] {
  return processesMatching('tsbuild-init').filter((line) => {
    const pid = line.slice(0, line.indexOf(':'));
    const status = procFile(pid, 'status');
    const ppid = /PPid:\s+(\d+)/.exec(status)?.[1];
    return ppid !== undefined && !cmdline(ppid).includes('tsbuild-sandbox');
  });
}
