// A per-build OpenSSH ssh-agent holding key files given with `--ssh ID=KEYFILE`, as buildx
// holds them in its own agent. It runs in the foreground (-D) as our child, on a socket in a
// private dir, and is stopped when the build ends; Ctrl-C reaches it with the terminal's
// process group, and a process exit that skips the build's cleanup still kills it.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { BuildError, UsageError } from '../errors.js';

/** A private key file's bytes, read by tsbuild so that file errors are its own, not ssh-add's. */
export interface KeyFile {
  path: string;
  data: Buffer;
}

export interface KeyAgent {
  socket: string;
  stop(): Promise<void>;
}

/** Agents still running, killed if the process exits before their build stops them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `ssh-agent -D -a SOCKET` and adds `keys`; `id` names the --ssh value in errors. */
export async function startKeyAgent(id: string, socket: string, keys: readonly KeyFile[]): Promise<KeyAgent> {
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv() });
  track(child);
  const agent: KeyAgent = { socket, stop: () => stopAgent(child) };
  try {
    await agentListening(child);
    // A build stops its agent; one that somehow did not must not keep tsbuild from exiting
    // (the exit hook kills it then).
    for (const handle of [child, child.stdout as Socket, child.stderr as Socket]) handle.unref();
    for (const key of keys) await addKey(id, socket, key);
    return agent;
  } catch (error) {
    await agent.stop();
    throw error;
  } finally {
    // The agent holds the keys now; tsbuild's copies are not kept for the rest of the build.
    for (const key of keys) key.data.fill(0);
  }
}

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const agent of running) agent.kill('SIGTERM');
  });
}

/** ssh-agent -D prints `SSH_AUTH_SOCK=…` once its socket is bound; an exit first is a failure. */
async function agentListening(child: ChildProcess): Promise<void> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const printed = new Promise<void>((resolve) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('SSH_AUTH_SOCK=')) resolve();
    });
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? missingTool('ssh-agent') : error));
    child.once('close', (code, signal) => reject(new BuildError('E_SSH_AGENT', `ssh-agent exited (${signal ?? `status ${code}`}) before it was ready: ${stderr.trim() || 'no message'}`)));
  });
  await Promise.race([printed, failed]);
}

/**
 * `ssh-add -` with the key on stdin: no file permission check (buildx has none either), and in
 * a session of its own (setsid) without askpass, so a key with a passphrase cannot prompt on
 * the terminal: ssh-add reads an empty passphrase from the closed stdin and fails.
 */
async function addKey(id: string, socket: string, key: KeyFile): Promise<void> {
  const child = spawn('ssh-add', ['-q', '-'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...toolEnv(), SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: 'never' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on('error', () => {}); // ssh-add may exit before reading it all; its status says why
  child.stdin!.end(key.data);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? missingTool('ssh-add') : error));
    child.once('close', resolve);
  });
  if (code === 0) return;
  if (/passphrase/i.test(stderr)) {
    throw new UsageError(`--ssh ${id}: the key ${key.path} is protected by a passphrase, which a build cannot ask for`, {
      hint: `add it to your own agent (ssh-add ${key.path}) and pass that agent: --ssh ${id}=$SSH_AUTH_SOCK`,
    });
  }
  throw new UsageError(`--ssh ${id}: ${key.path} is not a private key ssh-add can load (${stderr.trim() || `status ${code}`})`, {
    hint: 'give the private key file (e.g. ~/.ssh/id_ed25519), not the .pub file, or an agent socket',
  });
}

async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  // Referenced again while we wait for it: else nothing might keep the process alive meanwhile,
  // and it would exit mid-cleanup.
  child.ref();
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

function missingTool(tool: string): UsageError {
  return new UsageError(`--ssh with key files needs OpenSSH's ${tool}, which is not installed`, {
    hint: 'install it (apt-get install openssh-client), or give a running agent instead: --ssh default',
  });
}

/**
 * The OpenSSH tools see only the PATH to be found by, nothing else of tsbuild's environment:
 * no DISPLAY or SSH_ASKPASS that could open a passphrase dialog, no agent of the user's.
 */
function toolEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin' };
}
