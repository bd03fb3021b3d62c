// Runs the host's `git` the way a build needs it (after BuildKit's gitutil): none of the host's
// or user's git config (no filters, hooks, URL rewrites or autocrlf that would change what a
// checkout holds), no prompts (a missing credential fails instead of waiting on a terminal),
// network transports only (a submodule cannot pull host files in through file:// or ext::),
// and umask 022, so file modes are the repository's on any host.

import { spawn } from 'node:child_process';
import { BuildError, CancelledError } from '../../errors.js';
import { redactUrl } from '../../lib/git-url.js';

/** git exited with a failure; `stderr` has its credentials redacted. */
export class GitCommandError extends Error {
  readonly command: string;
  readonly stderr: string;

  constructor(command: string, status: number | null, stderr: string) {
    super(`git ${command} failed: ${lastLine(stderr) || `exit status ${status}`}`);
    this.command = command;
    this.stderr = stderr;
  }
}

/** The user's environment, of which git sees only the proxies and the ssh agent (PASSED_ENV). */
export type GitEnv = Readonly<Record<string, string | undefined>>;

/** How a build runs git: its cancellation, and the environment the CLI passes. */
export interface GitRunOptions {
  signal?: AbortSignal;
  gitEnv?: GitEnv;
}

/** What git may see of the user's environment: the proxy settings and the ssh agent, nothing else. */
const PASSED_ENV = ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY', 'SSH_AUTH_SOCK'];

function gitEnvironment(gitEnv: GitEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'http:https:git:ssh',
    // BatchMode: an ssh host that wants a password or an unknown host key fails instead of asking.
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
  };
  for (const name of PASSED_ENV) if (gitEnv[name] !== undefined) env[name] = gitEnv[name];
  return env;
}

/** Config every command gets: no reflogs (they would stamp the host's time into a kept .git). */
const CONFIG = ['-c', 'core.logAllRefUpdates=false', '-c', 'init.defaultBranch=main', '-c', 'advice.detachedHead=false'];

const NOT_INSTALLED = { hint: 'install git (apt-get install git)' };

/** Runs `git ARGS` in `cwd`; resolves with its stdout, rejects with GitCommandError or CancelledError. */
export function runGit(args: string[], options: GitRunOptions & { cwd?: string } = {}): Promise<string> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new CancelledError());
  return new Promise((resolve, reject) => {
    // Its own process group: git's remote helpers are killed with it when the build is cancelled.
    const child = spawn('/bin/sh', ['-c', 'umask 022 && exec git "$@"', 'git', ...CONFIG, ...args], {
      cwd: options.cwd,
      env: gitEnvironment(options.gitEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const cancel = () => killGroup(child.pid);
    signal?.addEventListener('abort', cancel, { once: true });
    child.on('error', (error) => reject(new BuildError('E_GIT_MISSING', `cannot run git: ${error.message}`, NOT_INSTALLED)));
    child.on('close', (status) => {
      signal?.removeEventListener('abort', cancel);
      const failure = signal?.aborted ? new CancelledError() : gitFailure(args, status, redactUrl(Buffer.concat(stderr).toString('utf8')));
      if (failure) reject(failure);
      else resolve(Buffer.concat(stdout).toString('utf8'));
    });
  });
}

function killGroup(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(-pid, 'SIGKILL');
  } catch {
    // the group has exited already
  }
}

/** Why git failed, if it did: not installed (the shell's 127), or its own error. */
function gitFailure(args: string[], status: number | null, stderr: string): Error | undefined {
  if (status === 0) return undefined;
  if (status === 127 && /git: not found/.test(stderr)) return new BuildError('E_GIT_MISSING', 'git is not installed: git sources need the git command', NOT_INSTALLED);
  return new GitCommandError(args.find((arg) => !arg.startsWith('-')) ?? 'git', status, stderr);
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('hint:'));
  return lines.at(-1)?.replace(/^(fatal|error): /, '') ?? '';
}
