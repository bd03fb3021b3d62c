// ADD <http(s) URL>: the file is fetched (only when the build has the host network), written
// with mode 0600 under the URL path's last name, as BuildKit's HTTP source does, and checked
// against --checksum when one is given. It is never unpacked, even when it is an archive.

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BuildError } from '../errors.js';
import type { CopyStep } from '../plan/types.js';

/** The name BuildKit's Dockerfile frontend gives the fetched file: the URL path's last name. */
export function remoteFileName(url: string): string {
  const base = posix.basename(new URL(url).pathname);
  return base === '' || base === '.' || base === '/' ? '__unnamed__' : decodeURIComponent(base);
}

/**
 * The content half of the step's key: the --checksum when given (no fetch needed, as in
 * BuildKit), else the sha256 of what the URL serves now.
 */
export async function remoteSourceDigest(step: CopyStep, url: string, signal?: AbortSignal): Promise<string> {
  const expected = expectedDigest(step, url);
  if (expected) return expected;
  return fetchTo(step, url, undefined, signal);
}

/** Fetches the URL into `dir` as a 0600 file; returns its name there. Fails on a checksum mismatch. */
export async function fetchRemoteSource(step: CopyStep, url: string, dir: string, signal?: AbortSignal): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = remoteFileName(url);
  const actual = await fetchTo(step, url, join(dir, name), signal);
  const expected = expectedDigest(step, url);
  if (expected && actual !== expected) {
    throw new BuildError('E_ADD_CHECKSUM', `ADD ${url}: checksum mismatch: expected ${expected}, got ${actual}`, {
      location: step.location,
      hint: 'the server sent other content than --checksum names; check the URL, or update the checksum if the change is expected',
    });
  }
  return name;
}

function expectedDigest(step: CopyStep, url: string): string | undefined {
  if (step.checksum === undefined) return undefined;
  if (!step.checksum.startsWith('sha256:')) {
    throw new BuildError('E_ADD_CHECKSUM', `ADD ${url}: --checksum=${step.checksum} is a git commit; an http(s) source needs sha256:<64 hex digits>`, {
      location: step.location,
    });
  }
  return step.checksum;
}

/** Streams the body to `file` (or only hashes it) and returns `sha256:<hex>`. */
async function fetchTo(step: CopyStep, url: string, file: string | undefined, signal?: AbortSignal): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new BuildError('E_ADD_REMOTE_FETCH', `ADD ${url}: cannot fetch: ${(cause as Error).cause instanceof Error ? ((cause as Error).cause as Error).message : (cause as Error).message}`, {
      location: step.location,
      cause,
    });
  }
  if (!response.ok || !response.body) {
    throw new BuildError('E_ADD_REMOTE_FETCH', `ADD ${url}: the server answered ${response.status} ${response.statusText}`.trimEnd(), {
      location: step.location,
    });
  }
  const hash = createHash('sha256');
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  if (file) {
    const hashed = async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    };
    await pipeline(body, hashed, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
  } else {
    for await (const chunk of body) hash.update(chunk as Buffer);
  }
  return `sha256:${hash.digest('hex')}`;
}
