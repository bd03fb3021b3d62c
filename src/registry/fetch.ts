// One blob from a registry into the store: streamed, verified by the store against the
// descriptor's digest and size as it is written (ingest → verify → rename), retried as a
// whole when the connection drops. A blob whose bytes do not match is refused and nothing of
// it stays in the store.

import { RegistryError, StoreError } from '../errors.js';
import type { Descriptor } from '../layer/oci.js';
import type { ContentStore } from '../store/types.js';
import type { RegistryClient } from './client.js';
import { NetworkError, withRetries } from './http.js';
import { DEFAULTS, type RegistryOptions } from './options.js';
import { ProgressStream, transferLabel } from './progress.js';

export async function fetchBlob(store: ContentStore, client: RegistryClient, repository: string, blob: Descriptor, options: RegistryOptions): Promise<void> {
  if (await store.hasBlob(blob.digest)) return;
  const policy = { retries: options.retries ?? DEFAULTS.retries, retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs, signal: options.signal };
  await withRetries(policy, () => fetchOnce(store, client, repository, blob, options)).catch((error: unknown) => {
    throw error instanceof NetworkError ? client.unreachable(error) : error;
  });
}

async function fetchOnce(store: ContentStore, client: RegistryClient, repository: string, blob: Descriptor, options: RegistryOptions): Promise<void> {
  const body = await client.openBlob(repository, blob.digest, true);
  let dropped: Error | undefined;
  body.on('error', (error) => (dropped = error));
  const counted = body.pipe(new ProgressStream(options.onEvent, `pull:${blob.digest}`, transferLabel('pulling', blob.digest), blob.size));
  body.on('error', (error) => counted.destroy(error));
  try {
    await store.ingest(counted, { digest: blob.digest, size: blob.size });
  } catch (error) {
    if (dropped) throw new NetworkError(`GET blob ${blob.digest}: ${(dropped as NodeJS.ErrnoException).code ?? dropped.message}`, (dropped as NodeJS.ErrnoException).code, dropped);
    if (error instanceof StoreError && error.kind === 'corrupt') {
      throw new RegistryError('E_REGISTRY_DIGEST_MISMATCH', `${client.domain}/${repository} served wrong content for blob ${blob.digest}: ${error.message}`, {
        hint: 'The registry or a proxy in between altered the blob; nothing of it was stored. Try again, or report it to the registry operator.',
        cause: error,
      });
    }
    throw error;
  }
}
