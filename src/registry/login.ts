// `tsbuild login` / `logout`: check credentials against the registry, then keep them where
// Docker would (a credential helper, or config.json), so docker and tsbuild share logins.

import { UsageError } from '../errors.js';
import { RegistryClient } from './client.js';
import { eraseCredentials, storeCredentials, type Credentials } from './credentials.js';
import type { RegistryOptions } from './options.js';

/** `https://127.0.0.1:5000/v2/`, `index.docker.io`, `` → the domain references use. */
export function normalizeRegistryName(input: string | undefined): string {
  const bare = (input ?? '').trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (bare === '' || bare === 'index.docker.io' || bare === 'registry-1.docker.io') return 'docker.io';
  if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(bare)) {
    throw new UsageError(`${JSON.stringify(input)} is not a registry host`, { hint: 'Name a registry as HOST[:PORT], e.g. ghcr.io or localhost:5000.' });
  }
  return bare;
}

export async function login(registry: string, credentials: Credentials, options: RegistryOptions & { dockerConfigDir: string }): Promise<void> {
  if (credentials.username === '' || credentials.password === '') {
    throw new UsageError('a user name and a password are both needed to log in', { hint: 'Pass -u USER and the password on stdin with --password-stdin.' });
  }
  const client = await RegistryClient.connect(registry, { ...options, credentials });
  try {
    await client.checkLogin();
  } finally {
    client.close();
  }
  await storeCredentials(options.dockerConfigDir, registry, credentials);
}

/** Resolves to whether credentials were stored for the registry. */
export function logout(registry: string, dockerConfigDir: string): Promise<boolean> {
  return eraseCredentials(dockerConfigDir, registry);
}
