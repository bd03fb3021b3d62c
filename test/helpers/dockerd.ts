// A real Docker daemon for the tests: Debian's dockerd on a private socket, with its own data
// and exec roots under a temp dir, no bridge and no iptables rules, so it touches nothing of
// the host's networking or of a dockerd the host may run.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll } from 'vitest';

export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker';

export interface TestDockerd {
  /** The daemon's socket: DOCKER_HOST is `unix://` + this. */
  socket: string;
  /** Runs the docker CLI against this daemon; returns its stdout. */
  docker(...args: string[]): string;
  /** Stops the daemon and removes its files. */
  stop(): Promise<void>;
}

/** Why dockerd cannot run here, or undefined when it can be tried. */
export function dockerdUnavailable(): string | undefined {
  if (!existsSync(DOCKERD) || !existsSync(DOCKER)) return `${DOCKERD} or ${DOCKER} missing (scripts/setup.sh installs docker.io)`;
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  return undefined;
}

/** Starts dockerd and waits until it answers (`docker version`). */
export async function startDockerd(): Promise<TestDockerd> {
  const dir = mkdtempSync('/tmp/tsbuild-dockerd-');
  const socket = join(dir, 'docker.sock');
  const daemon = spawn(DOCKERD, [
    '--host', `unix://${socket}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'), '--bridge=none', '--iptables=false', '--ip6tables=false',
  ], { stdio: 'ignore' });
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  const docker = (...args: string[]) => execFileSync(DOCKER, ['-H', `unix://${socket}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const answers = () => {
    try {
      docker('version');
      return true;
    } catch {
      return false;
    }
  };
  if (!(await waitFor(() => existsSync(socket) && answers(), 60_000))) {
    await stop();
    throw new Error('dockerd did not answer on its socket within 60 s');
  }
  return { socket, docker, stop };
}

/** A dockerd for the enclosing describe block: started before its tests, stopped after them. */
export function useDockerd(): () => TestDockerd {
  let dockerd: TestDockerd | undefined;
  beforeAll(async () => {
    dockerd = await startDockerd();
    return () => dockerd!.stop();
  }, 90_000);
  return () => dockerd!;
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (check()) return true;
  return check();
}
