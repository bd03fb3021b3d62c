// Whether ADD should extract a local file: like Docker's archive.IsArchivePath, the file
// (decompressed when it starts with a gzip, bzip2, xz or zstd magic) must begin with a valid
// tar header. A `.gz` of something that is not a tar is copied as it is.

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const TAR_BLOCK = 512;

const MAGIC: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b, 0x08]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

export function detectCompression(head: Uint8Array): Compression {
  for (const [kind, magic] of MAGIC) {
    if (magic.every((byte, i) => head[i] === byte)) return kind;
  }
  return 'none';
}

/** Whether bytes in hand start like an archive: a compressor's magic, or a tar header. */
export function startsLikeArchive(head: Uint8Array): boolean {
  return detectCompression(head) !== 'none' || isTarHeader(head);
}

/** Whether `path` is a tar archive, plain or compressed, that ADD extracts. */
export async function isArchiveFile(path: string): Promise<boolean> {
  const head = await readHead(path, TAR_BLOCK);
  const compression = detectCompression(head);
  if (compression === 'none') return isTarHeader(head);
  return isTarHeader(await firstDecompressedBlock(path, compression));
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A tar header block: a name, and a checksum that matches (what Go's tar reader checks). */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < TAR_BLOCK || block[0] === 0) return false;
  const field = Buffer.from(block.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let unsigned = 0;
  for (let i = 0; i < TAR_BLOCK; i++) unsigned += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return parseInt(field, 8) === unsigned;
}

/** The first 512 bytes after decompression (fewer when the stream is shorter or corrupt). */
async function firstDecompressedBlock(path: string, compression: Exclude<Compression, 'none'>): Promise<Buffer> {
  const { stream, stop } = decompressor(path, compression);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= TAR_BLOCK) break;
    }
  } catch {
    // corrupt data: not an archive we can extract
  } finally {
    stop();
  }
  return Buffer.concat(chunks).subarray(0, TAR_BLOCK);
}

function decompressor(path: string, compression: Exclude<Compression, 'none'>): { stream: Readable; stop: () => void } {
  if (compression === 'gzip') {
    const file = createReadStream(path);
    const gunzip = createGunzip();
    file.on('error', (error) => gunzip.destroy(error));
    return { stream: file.pipe(gunzip), stop: () => (file.destroy(), gunzip.destroy()) };
  }
  const tool = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' }[compression];
  const child = spawn(tool, ['-dc', path], { stdio: ['ignore', 'pipe', 'ignore'] });
  child.on('error', () => child.stdout.destroy());
  return { stream: child.stdout, stop: () => child.kill() };
}
