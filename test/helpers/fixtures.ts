// Fixture builders shared by the tests, cached under .cache/fixtures between runs.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURE_CACHE = resolve(REPO_ROOT, '.cache/fixtures');

/** A busybox root filesystem directory (from Debian's busybox-static), built once. */
export function busyboxRootfs(): string {
  const dest = resolve(FIXTURE_CACHE, 'busybox-rootfs');
  if (!existsSync(resolve(dest, 'bin/busybox'))) {
    mkdirSync(FIXTURE_CACHE, { recursive: true });
    execFileSync('bash', [resolve(REPO_ROOT, 'fixtures/base/make-busybox-rootfs.sh'), dest], { stdio: 'inherit' });
  }
  return dest;
}
