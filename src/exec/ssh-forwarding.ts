// SSH agents for RUN --mount=type=ssh, given as `docker buildx build --ssh` gives them: by id,
// an agent socket the user has, or key files that a per-build ssh-agent holds (ssh-agent.ts).
// A step never sees either directly: each of its ssh mounts gets a socket of its own that
// relays the agent protocol (ssh-agent-relay.ts). The sockets live in one private dir per
// build, removed with it.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { startKeyAgent, type KeyAgent, type KeyFile } from './ssh-agent.js';
import { relaySocket, type RelaySocket, type SocketOwner } from './ssh-agent-relay.js';

/** `--ssh ID=PATH[,PATH…]`: one agent socket, or private key files. */
export interface SshSource {
  paths: string[];
}

type AgentSource = { kind: 'socket'; path: string } | { kind: 'keys'; keys: KeyFile[] };

export class SshAgents {
  /** The private dir of the build's sockets; '' when no agent was given. */
  private readonly dir: string;
  /** The agent socket of each id. */
  private readonly sockets: ReadonlyMap<string, string>;
  private readonly started: readonly KeyAgent[];
  /** Relays not closed yet: close() closes them, so none can keep the process alive. */
  private readonly relays = new Set<RelaySocket>();
  private relayCount = 0;

  private constructor(dir: string, sockets: ReadonlyMap<string, string>, started: readonly KeyAgent[]) {
    this.dir = dir;
    this.sockets = sockets;
    this.started = started;
  }

  /** Checks every source and starts an agent for each set of key files; `close()` stops them. */
  static async open(sources: Readonly<Record<string, SshSource>>): Promise<SshAgents> {
    const ids = Object.keys(sources).sort();
    if (ids.length === 0) return new SshAgents('', new Map(), []);
    const resolved = await Promise.all(ids.map((id) => agentSource(id, sources[id]!.paths)));
    const dir = await mkdtemp(join(tmpdir(), 'tsbuild-ssh-'));
    const sockets = new Map<string, string>();
    const started: KeyAgent[] = [];
    try {
      for (const [i, id] of ids.entries()) {
        const source = resolved[i]!;
        if (source.kind === 'socket') {
          sockets.set(id, source.path);
          continue;
        }
        const agent = await startKeyAgent(id, join(dir, `agent-${i}.sock`), source.keys);
        started.push(agent);
        sockets.set(id, agent.socket);
      }
    } catch (error) {
      await new SshAgents(dir, sockets, started).close();
      throw error;
    }
    return new SshAgents(dir, sockets, started);
  }

  has(id: string): boolean {
    return this.sockets.has(id);
  }

  /** A new socket that relays to the agent of `id`, with the owner and mode asked for. */
  async forward(id: string, owner: SocketOwner): Promise<RelaySocket> {
    const agent = this.sockets.get(id);
    if (agent === undefined) throw new Error(`no ssh agent with id ${id}`);
    const relay = await relaySocket(agent, join(this.dir, `relay-${this.relayCount++}.sock`), owner);
    this.relays.add(relay);
    return {
      path: relay.path,
      close: async () => {
        this.relays.delete(relay);
        await relay.close();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.relays].map((relay) => relay.close()));
    await Promise.all(this.started.map((agent) => agent.stop()));
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true });
  }
}

/** What a --ssh value names, checked before the build starts, so each mistake gets its own error. */
async function agentSource(id: string, paths: readonly string[]): Promise<AgentSource> {
  const kinds = await Promise.all(paths.map((path) => pathKind(id, path)));
  if (kinds.includes('socket')) {
    if (paths.length > 1) {
      throw new UsageError(`--ssh ${id}: an agent socket cannot be given with other paths`, { hint: `give one socket (--ssh ${id}=SOCKET) or key files (--ssh ${id}=KEY1,KEY2)` });
    }
    await requireListening(id, paths[0]!);
    return { kind: 'socket', path: paths[0]! };
  }
  return { kind: 'keys', keys: await Promise.all(paths.map((path) => readKeyFile(id, path))) };
}

async function pathKind(id: string, path: string): Promise<'socket' | 'file'> {
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT'
      ? new UsageError(`--ssh ${id}: ${path} does not exist`, {
          hint: 'give private key files, or the socket of a running agent (an SSH_AUTH_SOCK left from an agent that has exited names nothing)',
        })
      : new UsageError(`--ssh ${id}: cannot reach ${path} (${error.code ?? error.message})`, { hint: 'tsbuild needs to see the path itself' });
  });
  if (stats.isSocket()) return 'socket';
  if (stats.isDirectory()) throw new UsageError(`--ssh ${id}: ${path} is a directory`, { hint: 'give private key files, or an agent socket' });
  return 'file';
}

async function readKeyFile(id: string, path: string): Promise<KeyFile> {
  try {
    return { path, data: await readFile(path) };
  } catch (error) {
    throw new UsageError(`--ssh ${id}: cannot read the key file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      hint: 'tsbuild reads the key itself and needs read permission on it',
    });
  }
}

/** A socket left by an agent that died accepts no connection: say so now, not from inside a step. */
async function requireListening(id: string, path: string): Promise<void> {
  const socket = connect(path);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (error) {
    throw new UsageError(`--ssh ${id}: no agent answers at ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      hint: 'start one (eval "$(ssh-agent)" && ssh-add), or give key files: --ssh ID=~/.ssh/id_ed25519',
    });
  } finally {
    socket.destroy();
  }
}
