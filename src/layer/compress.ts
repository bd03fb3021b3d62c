// Layer compression. Gzip is made deterministic (fixed level, zero mtime, no name: node:zlib
// writes exactly that header). Zstd only where the Node runtime has it in zlib; elsewhere a
// clear error rather than a silently different format. Reading detects the format by its
// magic bytes, since a mediaType can lie.

import type { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { LayerError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export const DEFAULT_GZIP_LEVEL = 6;

interface ZstdZlib {
  createZstdCompress?: (options?: { params?: Record<number, number> }) => Transform;
  createZstdDecompress?: () => Transform;
  constants: Record<string, number>;
}

const zstdZlib = zlib as unknown as ZstdZlib;

export function zstdAvailable(): boolean {
  return typeof zstdZlib.createZstdCompress === 'function' && typeof zstdZlib.createZstdDecompress === 'function';
}

function zstdUnavailable(): LayerError {
  return new LayerError('E_LAYER_UNSUPPORTED', `zstd is not available in this Node.js runtime (${process.version})`, {
    hint: 'use compression=gzip, or run tsbuild on a Node.js version whose zlib has zstd (22.15 or later)',
  });
}

/** A compressing transform; gzip output depends only on the input and the level. */
export function compressor(compression: Exclude<Compression, 'none'>, level?: number): Transform {
  if (compression === 'gzip') {
    const gzipLevel = level ?? DEFAULT_GZIP_LEVEL;
    if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9) {
      throw new LayerError('E_LAYER_OPTIONS', `gzip compression level must be an integer 0–9, got ${level}`);
    }
    return zlib.createGzip({ level: gzipLevel });
  }
  if (!zstdAvailable()) throw zstdUnavailable();
  const params = level === undefined ? {} : { [zstdZlib.constants.ZSTD_c_compressionLevel!]: level };
  return zstdZlib.createZstdCompress!({ params });
}

/** Compresses a layer stream (plain tar in, compressed bytes out). */
export function compressLayer(input: Readable, compression: Exclude<Compression, 'none'>, level?: number): Readable {
  const transform = compressor(compression, level);
  input.on('error', (error) => transform.destroy(error));
  return input.pipe(transform);
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2_MAGIC = [0x42, 0x5a, 0x68];

function startsWith(head: Buffer, magic: number[]): boolean {
  return head.length >= magic.length && magic.every((byte, i) => head[i] === byte);
}

export function detectCompression(head: Buffer): Compression {
  if (startsWith(head, GZIP_MAGIC)) return 'gzip';
  if (startsWith(head, ZSTD_MAGIC)) return 'zstd';
  if (startsWith(head, XZ_MAGIC) || startsWith(head, BZIP2_MAGIC)) {
    throw new LayerError('E_LAYER_UNSUPPORTED', 'layer is xz or bzip2 compressed; OCI layers are tar, gzip or zstd');
  }
  return 'none';
}

/** The uncompressed bytes of a layer stream, whatever of tar/gzip/zstd it is. */
export async function decompressedStream(input: Readable): Promise<{ stream: Readable; compression: Compression }> {
  const head = await peek(input, ZSTD_MAGIC.length + 2);
  const compression = detectCompression(head);
  if (compression === 'none') return { stream: input, compression };
  if (compression === 'zstd' && !zstdAvailable()) {
    input.destroy();
    throw zstdUnavailable();
  }
  const transform = compression === 'gzip' ? zlib.createGunzip() : zstdZlib.createZstdDecompress!();
  input.on('error', (error) => transform.destroy(error));
  transform.on('error', () => input.destroy());
  return { stream: input.pipe(transform), compression };
}

/** Reads the first bytes of a stream and puts them back. */
async function peek(input: Readable, count: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < count) {
    const chunk = await readChunk(input);
    if (chunk === null) break;
    parts.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(parts);
  if (head.length > 0) input.unshift(head);
  return head;
}

function readChunk(input: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunk = input.read() as Buffer | null;
    if (chunk !== null) return resolve(chunk);
    if (input.errored) return reject(input.errored);
    if (input.readableEnded || input.destroyed) return resolve(null);
    const cleanup = () => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    const onReadable = () => {
      const next = input.read() as Buffer | null;
      if (next === null) return;
      cleanup();
      resolve(next);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    input.on('readable', onReadable);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}
