// `--load`: the built image goes into a Docker daemon through its Engine API (`POST
// /images/load`), as the docker-archive stream that `-o type=docker` writes, so nothing is
// staged on disk. Only unix sockets: DOCKER_HOST's default, and all a local build needs;
// tcp:// would need Docker's TLS settings too.

import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DaemonError, isTsbuildError, UsageError } from '../errors.js';
import type { ContentStore, StoredImage } from '../store/types.js';
import { writeDockerArchive } from './image-archive.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

const UNIX_SCHEME = 'unix://';

/** The socket path DOCKER_HOST names (the default when unset or empty); other schemes are refused. */
export function dockerSocketPath(dockerHost: string | undefined): string {
  const host = dockerHost || DEFAULT_DOCKER_HOST;
  const path = host.startsWith(UNIX_SCHEME) ? host.slice(UNIX_SCHEME.length) : '';
  if (!path.startsWith('/')) {
    throw new UsageError(`--load: DOCKER_HOST=${host} is not supported: tsbuild reaches a Docker daemon through its unix socket only`, {
      hint: `Set DOCKER_HOST=unix:///PATH/TO/docker.sock (default ${DEFAULT_DOCKER_HOST}), or write -o type=docker,dest=image.tar and run docker load -i image.tar.`,
    });
  }
  return path;
}

export interface DockerLoadOptions {
  /** The daemon's unix socket. */
  socketPath: string;
  /** Names the daemon tags the image with (`-t`); none loads it untagged. */
  names: string[];
  /** A stream the archive passes through on its way (progress). */
  observe?: () => Transform;
  signal?: AbortSignal;
}

/** Streams `image` into the daemon; throws a DaemonError when it cannot be reached or refuses the image. */
export async function loadIntoDocker(store: ContentStore, image: StoredImage, options: DockerLoadOptions): Promise<void> {
  const post = request({
    socketPath: options.socketPath,
    method: 'POST',
    path: '/images/load?quiet=1',
    headers: { 'Content-Type': 'application/x-tar' },
    signal: options.signal,
  });
  const responded = new Promise<IncomingMessage>((resolve, reject) => {
    post.once('response', resolve);
    // `on`, not `once`: a second error (the socket failing after the request did) must not go unhandled.
    post.on('error', reject);
  });
  responded.catch(() => undefined); // awaited below, once the archive is sent
  const sendFailure = await sendArchive(store, image, post, options).then(() => undefined, (error: unknown) => error);
  // A store failure is the store's to report, not the daemon's.
  if (isTsbuildError(sendFailure)) throw sendFailure;
  let response: IncomingMessage;
  try {
    response = await responded;
  } catch (error) {
    throw unreachable(options.socketPath, error);
  }
  // A daemon that refuses the archive early answers before it has read it all: its answer says more than the broken pipe.
  const refusal = daemonRefusal(response.statusCode ?? 0, await readBody(response));
  if (refusal !== undefined) {
    throw new DaemonError('E_DOCKER_LOAD', `--load: the Docker daemon refused the image: ${refusal}`, {
      hint: "The daemon's message says why. The image stays in tsbuild's store (tsbuild images), and -o type=docker,dest=image.tar writes the archive that was sent, for a closer look.",
    });
  }
  if (sendFailure !== undefined) throw unreachable(options.socketPath, sendFailure);
}

async function sendArchive(store: ContentStore, image: StoredImage, post: ClientRequest, options: DockerLoadOptions): Promise<void> {
  if (!options.observe) return writeDockerArchive(store, image, post, { names: options.names });
  const observer = options.observe();
  await Promise.all([writeDockerArchive(store, image, observer, { names: options.names }), pipeline(observer, post)]);
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * What went wrong, or undefined when the load succeeded. An error status carries `{message}`;
 * a 200 answer is a stream of JSON messages, where a failure during the load is one with `error`.
 */
function daemonRefusal(status: number, body: string): string | undefined {
  const messages = body.split('\n').filter((line) => line.trim()).map(parseMessage);
  if (status !== 200) return messages.find((m) => m.message)?.message ?? `HTTP ${status} ${body.trim()}`.trim();
  const failed = messages.find((m) => m.error !== undefined || m.errorDetail !== undefined);
  return failed ? failed.errorDetail?.message ?? failed.error ?? 'unknown error' : undefined;
}

interface DaemonMessage {
  message?: string;
  error?: string;
  errorDetail?: { message?: string };
}

function parseMessage(line: string): DaemonMessage {
  try {
    return JSON.parse(line) as DaemonMessage;
  } catch {
    return { message: line.trim() };
  }
}

function unreachable(socketPath: string, error: unknown): DaemonError {
  const code = (error as NodeJS.ErrnoException).code;
  const what = code === 'ENOENT' ? `no Docker daemon socket at ${socketPath}`
    : code === 'ECONNREFUSED' ? `no Docker daemon answers on ${socketPath}`
    : code === 'EACCES' ? `no permission to use the Docker daemon socket ${socketPath}`
    : `the connection to the Docker daemon at ${socketPath} failed: ${(error as Error).message}`;
  const remedy = code === 'EACCES' ? 'Run as root or as a member of the docker group' : 'Start dockerd, or point DOCKER_HOST at its socket (unix:///PATH/TO/docker.sock)';
  return new DaemonError('E_DOCKER_UNREACHABLE', `--load: ${what}`, {
    cause: error,
    hint: `${remedy}, then build again with --load (the steps are cached). The image is in tsbuild's store meanwhile.`,
  });
}
