// The socket a step's ssh mount shows: it relays the agent protocol to the agent, as BuildKit's
// proxy does, so that the socket has the owner and mode the mount asks for, no host path or
// inode of the user's reaches the step, and the step may only list the keys and sign with
// them. Adding, removing, locking and extensions are refused, as BuildKit refuses them for a
// forwarded socket (a step must not empty or lock the user's own agent); here for the
// per-build agent too.

import { chmod, chown, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SocketOwner {
  uid: number;
  gid: number;
  mode: number;
}

/** A relay socket for one mount of one step. */
export interface RelaySocket {
  path: string;
  close(): Promise<void>;
}

/** Listens at `path` and relays each connection's allowed requests to a connection to the agent. */
export async function relaySocket(agent: string, path: string, owner: SocketOwner): Promise<RelaySocket> {
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // Errors reach the relay through its reads; this keeps an early one from being unhandled.
    socket.on('error', () => {});
    return socket;
  };
  // Half-open: a client that ends its side right after a request still gets the reply.
  const server = createServer({ allowHalfOpen: true }, (client) => void relay(track(client), () => track(connect(agent))));
  await listen(server, path).catch((error: unknown) => {
    server.close();
    throw error;
  });
  // Like the agent, a relay left open by mistake must not keep tsbuild from exiting.
  server.unref();
  const close = async () => {
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(path, { force: true });
  };
  try {
    // The private dir keeps everyone else out until the owner and mode are set.
    await chown(path, owner.uid, owner.gid);
    await chmod(path, owner.mode);
  } catch (error) {
    await close();
    throw error;
  }
  return { path, close };
}

/** Agent protocol message numbers (draft-miller-ssh-agent). */
const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENTC_SIGN_REQUEST = 13;
/** What a step may ask: the keys, and signatures with them. */
const ALLOWED_REQUESTS = new Set([SSH_AGENTC_REQUEST_IDENTITIES, SSH_AGENTC_SIGN_REQUEST]);
const FAILURE_REPLY = Buffer.from([0, 0, 0, 1, SSH_AGENT_FAILURE]);
/** OpenSSH's limit on one message (AGENT_MAX_LEN). */
const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * One request at a time, as the protocol goes: an allowed request goes to the agent and its one
 * reply comes back; any other is answered SSH_AGENT_FAILURE without reaching the agent. The
 * agent connection is made on the first allowed request. Either side ending ends both
 * connections; a failure or a malformed message drops both.
 */
async function relay(client: Socket, connectAgent: () => Socket): Promise<void> {
  let agent: Socket | undefined;
  try {
    const requests = new MessageReader(client);
    let replies: MessageReader | undefined;
    for (let request = await requests.next(); request !== undefined; request = await requests.next()) {
      if (!ALLOWED_REQUESTS.has(request[4] ?? -1)) {
        client.write(FAILURE_REPLY);
        continue;
      }
      agent ??= connectAgent();
      replies ??= new MessageReader(agent);
      agent.write(request);
      const reply = await replies.next();
      if (reply === undefined) break;
      client.write(reply);
    }
    client.end();
    agent?.end();
  } catch {
    // A connection error or a malformed message: dropping both connections is the answer.
    client.destroy();
    agent?.destroy();
  }
}

/** Whole agent messages (length prefix included) from a stream, one per `next()`. */
class MessageReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private buffered = Buffer.alloc(0);

  constructor(socket: Socket) {
    this.chunks = socket[Symbol.asyncIterator]();
  }

  /** The next message, or undefined when the stream ends between messages. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.buffered.length >= 4) {
        const length = this.buffered.readUInt32BE(0);
        if (length > MAX_MESSAGE_BYTES) throw new Error(`agent message of ${length} bytes`);
        if (this.buffered.length >= 4 + length) {
          const message = this.buffered.subarray(0, 4 + length);
          this.buffered = this.buffered.subarray(4 + length);
          return message;
        }
      }
      const chunk = await this.chunks.next();
      if (chunk.done) {
        if (this.buffered.length > 0) throw new Error('agent connection ended inside a message');
        return undefined;
      }
      this.buffered = Buffer.concat([this.buffered, chunk.value]);
    }
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
