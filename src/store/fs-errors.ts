// Maps file-system failures to store error kinds, so callers and the CLI see "the disk is
// full" rather than an errno.

import { LayerError, StoreError } from '../errors.js';
import { isCode } from '../lib/lock.js';

export function isNoSpace(error: unknown): boolean {
  return isCode(error, 'ENOSPC') || isCode(error, 'EDQUOT') || (error instanceof LayerError && error.code === 'E_LAYER_NO_SPACE');
}

/** Rethrows `error` as a StoreError when it is one we can name; `what` says what was being done. */
export function storeFsError(error: unknown, what: string): unknown {
  if (error instanceof StoreError) return error;
  if (isNoSpace(error)) {
    return new StoreError('no-space', `${what}: no space left on the device${error instanceof LayerError ? ` (${error.message})` : ''}`, {
      cause: error,
      hint: 'Free space (tsbuild prune, tsbuild du shows what takes it) or use a larger --root.',
    });
  }
  if (isCode(error, 'EROFS') || isCode(error, 'EACCES') || isCode(error, 'EPERM')) {
    return new StoreError('invalid', `${what}: ${(error as Error).message}`, {
      cause: error,
      hint: 'Check that the store directory (--root) is writable by this user.',
    });
  }
  return error;
}
