// Extracting a layer into a directory (a snapshot): detects the compression from the bytes,
// parses the tar as it streams, hands each entry to an Extraction (extraction.ts, where the
// safety lives) and computes the diffID over the uncompressed bytes on the way; the caller
// verifies it. Disk space and inodes are checked against the declared sizes before anything
// is written, so a decompression bomb fails fast.

import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { CancelledError, isTsbuildError, LayerError } from '../errors.js';
import { DigestingStream, type Digest } from '../lib/digest.js';
import { decompressedStream } from './compress.js';
import { Extraction, type ExtractionLimits, type WhiteoutMode } from './extraction.js';
import { readTar } from './tar-reader.js';

export interface ExtractLayerOptions {
  /** The descriptor's media type, for messages; the format is detected from the bytes. */
  mediaType?: string;
  /**
   * `overlay`: OCI whiteouts become overlayfs whiteouts (0/0 character devices, and
   * `trusted.overlay.opaque=y` on opaque directories): the result is an overlay lowerdir.
   * `apply`: whiteouts delete what they name from `dest`, which holds the layers below.
   * `none`: a plain archive (ADD, a build context): `.wh.` names are ordinary files.
   */
  whiteouts: WhiteoutMode;
  /** Refuse the layer once its file data would exceed this many bytes (default: the free space of dest's filesystem). */
  maxBytes?: number;
  /** Refuse the layer once it would create more than this many inodes (default: free inodes of dest's filesystem). */
  maxEntries?: number;
  /** Stops between entries; the promise rejects with a CancelledError and `dest` is left for the caller to remove. */
  signal?: AbortSignal;
}

export interface ExtractLayerResult {
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  /** Size of the uncompressed tar. */
  size: number;
  /** What could not be restored and was skipped (extended attributes the file system refuses). */
  warnings: string[];
  /** `overlay` mode: the directories marked opaque (relative, `a/b`), unless an attribute could not be set. */
  opaqueDirs?: string[];
}

/** Free space left alone so a layer cannot fill the disk to the last byte. */
const SPACE_RESERVE = 64 << 20;

/**
 * Unpacks a tar, gzip or zstd layer into `dest`, an existing directory (empty in `overlay`
 * mode). On error, `dest` is left as it is, for the caller to remove.
 */
export async function extractLayer(input: Readable, dest: string, options: ExtractLayerOptions): Promise<ExtractLayerResult> {
  const root = resolve(dest);
  const digester = new DigestingStream();
  // Listen before the first await: a small input can end, and fail its own verification
  // (a corrupt blob), while we wait, and an error nobody listens to would crash the process.
  // The input's error is passed to the digester, which the tar reader has not started on yet;
  // its iterator throws the error it was destroyed with, so the reader still sees it.
  const onInputError = (error: Error) => digester.destroy(decompressionError(error, options.mediaType));
  input.on('error', onInputError);
  digester.on('error', () => {});
  const limits = await defaultLimits(root, options);
  let stream: Readable;
  try {
    ({ stream } = await decompressedStream(input));
  } catch (error) {
    input.destroy();
    throw isTsbuildError(error) ? error : decompressionError(error as Error, options.mediaType);
  }
  if (stream !== input) stream.on('error', onInputError);
  stream.pipe(digester);
  const extraction = new Extraction(root, options.whiteouts, limits);
  let current: { path: string; offset: number } | undefined;
  let warnings: string[];
  try {
    for await (const { entry, body, offset } of readTar(digester)) {
      if (options.signal?.aborted) throw new CancelledError('extracting the layer was cancelled');
      current = { path: entry.path, offset };
      await extraction.apply(entry, body, offset);
    }
    current = undefined;
    warnings = await extraction.finish();
  } catch (error) {
    input.destroy();
    stream.destroy();
    // Store errors (a corrupt blob) and layer errors pass through with their kind.
    throw isTsbuildError(error) ? error : asLayerError(error, current);
  }
  const opaqueDirs = options.whiteouts === 'overlay' ? extraction.opaqueDirs : undefined;
  return { diffId: digester.digest(), size: digester.size, warnings, ...(opaqueDirs ? { opaqueDirs } : {}) };
}

async function defaultLimits(dest: string, options: ExtractLayerOptions): Promise<ExtractionLimits> {
  const fs = await statfs(dest).catch((cause: unknown) => {
    throw new LayerError('E_LAYER_DEST', `cannot extract into ${dest}`, { cause });
  });
  return {
    bytes: options.maxBytes ?? Math.max(0, fs.bavail * fs.bsize - SPACE_RESERVE),
    entries: options.maxEntries ?? (fs.files === 0 ? Number.MAX_SAFE_INTEGER : fs.ffree),
  };
}

function decompressionError(error: Error, mediaType: string | undefined): Error {
  if (isTsbuildError(error)) return error;
  return new LayerError('E_LAYER_CORRUPT', `layer${mediaType ? ` (${mediaType})` : ''} does not decompress: ${error.message}`, {
    cause: error,
  });
}

function asLayerError(error: unknown, at: { path: string; offset: number } | undefined): LayerError {
  const errno = error as NodeJS.ErrnoException;
  const path = at && at.path.length > 120 ? `${at.path.slice(0, 60)}…${at.path.slice(-60)}` : at?.path;
  const where = at ? `entry ${JSON.stringify(path)} at byte ${at.offset}` : 'finishing the layer';
  if (errno.code === 'ENOSPC' || errno.code === 'EDQUOT') {
    return new LayerError('E_LAYER_NO_SPACE', `no space left on the device extracting ${where}`, { cause: error });
  }
  if (errno.code === 'ENAMETOOLONG') {
    return new LayerError('E_LAYER_UNSUPPORTED', `${where}: path too long for this system (PATH_MAX)`, { cause: error });
  }
  return new LayerError('E_LAYER_EXTRACT', `extracting ${where} failed: ${errno.code ?? ''} ${errno.message ?? String(error)}`.trim(), {
    cause: error,
  });
}
