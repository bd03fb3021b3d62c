// One blob from a registry into the store: streamed, verified by the store against the
// descriptor's digest and size as it is written (ingest → verify → rename). A connection
// that drops part-way is resumed with a Range request from the last byte received, inside
// the same ingest, so a 90 %-done layer does not start again. A blob whose bytes do not
// match is refused and nothing of it stays in the store.

import { Readable } from 'node:stream';
import { RegistryError, StoreError } from '../errors.js';
import { decompressedStream } from '../layer/compress.js';
import type { Descriptor } from '../layer/oci.js';
import type { ContentStore } from '../store/types.js';
import type { RegistryClient } from './client.js';
import { backOff, isRetriable, type RetryPolicy } from './http.js';
import { DEFAULTS, type RegistryOptions } from './options.js';
import { ProgressStream, transferLabel } from './progress.js';

/**
 * Downloads `blob` into the store. `stored`, when it differs, is what the store keeps: the
 * uncompressed layer that `blob` is a compressed copy of (the remote cache's wire form).
 */
export async function fetchBlob(
  store: ContentStore,
  client: RegistryClient,
  repository: string,
  blob: Descriptor,
  options: RegistryOptions,
  stored: Descriptor = blob,
): Promise<void> {
  if (await store.hasBlob(stored.digest)) return;
  const policy = { retries: options.retries ?? DEFAULTS.retries, retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs, signal: options.signal };
  const bytes = Readable.from(resumingBytes(client, repository, blob, policy), { objectMode: false });
  const counted = bytes.pipe(new ProgressStream(options.onEvent, `pull:${blob.digest}`, transferLabel('pulling', blob.digest), blob.size));
  bytes.on('error', (error) => counted.destroy(error));
  try {
    const content = stored.digest === blob.digest ? counted : (await decompressedStream(counted)).stream;
    await store.ingest(content, { digest: stored.digest, size: stored.size });
  } catch (error) {
    if ((error instanceof StoreError && error.kind === 'corrupt') || isZlibError(error)) {
      throw new RegistryError('E_REGISTRY_DIGEST_MISMATCH', `${client.domain}/${repository} served wrong content for blob ${blob.digest}: ${(error as Error).message}`, {
        hint: 'The registry or a proxy in between altered the blob; nothing of it was stored. Try again, or report it to the registry operator.',
        cause: error,
      });
    }
    throw isRetriable(error) && !(error instanceof RegistryError) ? client.unreachable(error) : error;
  }
}

/** zlib names its data errors Z_DATA_ERROR, Z_BUF_ERROR…: a damaged compressed stream. */
function isZlibError(error: unknown): boolean {
  return /^Z_/.test((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** The blob's bytes; after a failure worth retrying, asks again from where the last answer stopped. */
async function* resumingBytes(client: RegistryClient, repository: string, blob: Descriptor, policy: RetryPolicy): AsyncGenerator<Buffer> {
  let received = 0;
  for (let failures = 0; ; ) {
    const before = received;
    try {
      for await (const chunk of await client.openBlob(repository, blob.digest, { from: received, once: true })) {
        received += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      return;
    } catch (error) {
      failures = received > before ? 0 : failures; // a connection that made progress starts a fresh count
      await backOff(policy, error, failures++);
    }
  }
}
