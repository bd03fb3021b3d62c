// Blobs: containerd's content store, as files. Ingest streams to a private file under
// ingest/, hashing as it goes, fsyncs, checks the expected digest and size, renames into
// blobs/sha256/ and fsyncs the directory: a blob is never visible half-written. Reads verify
// the digest as the bytes flow, so a flipped byte fails the read with the blob named.

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { StoreError } from '../errors.js';
import { fsyncDir } from '../lib/atomic.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { DigestingStream, sha256, type Digest } from '../lib/digest.js';
import { isCode } from '../lib/lock.js';
import type { Descriptor } from '../layer/oci.js';
import { storeFsError } from './fs-errors.js';
import { ownerTag, type StoreLayout } from './layout.js';

/** Records digests in the caller's lease and waits out a running prune (see leases.ts). */
export type Protect = (digests: Digest[]) => Promise<void>;

export interface ExpectedContent {
  digest?: Digest;
  size?: number;
}

export class BlobStore {
  private readonly layout: StoreLayout;
  private readonly protect: Protect;

  constructor(layout: StoreLayout, protect: Protect) {
    this.layout = layout;
    this.protect = protect;
  }

  /** Size of the stored blob, or undefined when there is none. */
  async size(digest: Digest): Promise<number | undefined> {
    try {
      const info = await stat(this.layout.blob(digest));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async exists(digest: Digest): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  /** Present and of the expected size: the cheap check a cache lookup can afford. */
  async existsWithSize(digest: Digest, size: number): Promise<boolean> {
    return (await this.size(digest)) === size;
  }

  async list(): Promise<string[]> {
    return readdir(this.layout.blobsDir).catch(() => []);
  }

  async remove(digest: Digest): Promise<void> {
    await rm(this.layout.blob(digest), { force: true });
  }

  async ingest(source: Readable, expected: ExpectedContent = {}): Promise<{ digest: Digest; size: number }> {
    // The source can fail while the temp file is made (a corrupt blob being recompressed fails
    // as soon as it is opened); pipeline() below rethrows the error it was destroyed with, so
    // this listener only keeps it from being an uncaught exception meanwhile.
    source.on('error', () => {});
    await mkdir(this.layout.ingestDir, { recursive: true });
    const temp = join(this.layout.ingestDir, `${ownerTag()}.${randomBytes(8).toString('hex')}`);
    try {
      const digesting = new DigestingStream();
      await pipeline(source, digesting, createWriteStream(temp, { flags: 'wx', mode: 0o644, highWaterMark: 1 << 20 }));
      await fsyncFile(temp);
      const result = { digest: digesting.digest(), size: digesting.size };
      checkExpected(result, expected);
      await this.commit(temp, result.digest);
      return result;
    } catch (error) {
      await rm(temp, { force: true });
      throw storeFsError(error, `writing ${expected.digest ?? 'a blob'} into the store`);
    }
  }

  async putBytes(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    await this.protect([digest]);
    if (await this.existsWithSize(digest, bytes.length)) return descriptor;
    await this.ingest(Readable.from([Buffer.from(bytes)]), { digest, size: bytes.length });
    return descriptor;
  }

  putJson(value: unknown, mediaType: string): Promise<Descriptor> {
    return this.putBytes(Buffer.from(canonicalJson(value)), mediaType);
  }

  /**
   * Renames over an existing blob of the same digest on purpose: the new bytes were just
   * verified, so this also heals a corrupted copy. Open readers keep the old inode.
   */
  private async commit(temp: string, digest: Digest): Promise<void> {
    await this.protect([digest]);
    await mkdir(this.layout.blobsDir, { recursive: true });
    await rename(temp, this.layout.blob(digest));
    await fsyncDir(this.layout.blobsDir);
  }

  open(digest: Digest): Readable {
    const path = this.layout.blob(digest);
    const verifier = new VerifyingStream(digest);
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    file.on('error', (error) => verifier.destroy(readError(error, digest) as Error));
    verifier.on('close', () => file.destroy());
    return file.pipe(verifier);
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.layout.blob(digest));
    } catch (error) {
      throw readError(error, digest);
    }
    const actual = sha256(bytes);
    if (actual !== digest) throw corruptBlob(digest, actual);
    return bytes;
  }

  async readJson<T>(digest: Digest): Promise<T> {
    const bytes = await this.readBytes(digest);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (error) {
      throw new StoreError('invalid', `blob ${digest} is not JSON`, { cause: error });
    }
  }

  /** Re-hashes a blob: the digest it really has and its size. */
  async hash(digest: Digest): Promise<{ digest: Digest; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of createReadStream(this.layout.blob(digest), { highWaterMark: 1 << 20 })) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch (error) {
      throw readError(error, digest);
    }
    return { digest: `sha256:${hash.digest('hex')}`, size };
  }
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function checkExpected(actual: { digest: Digest; size: number }, expected: ExpectedContent): void {
  if (expected.size !== undefined && actual.size !== expected.size) {
    throw new StoreError('corrupt', `content for ${expected.digest ?? 'a blob'} has ${actual.size} bytes, expected ${expected.size}`, {
      hint: 'The source is truncated or not what it claims to be; fetch or export it again.',
    });
  }
  if (expected.digest !== undefined && actual.digest !== expected.digest) {
    throw new StoreError('corrupt', `content for ${expected.digest} hashes to ${actual.digest}`, {
      hint: 'The source is damaged or not what it claims to be; fetch or export it again.',
    });
  }
}

function corruptBlob(digest: Digest, actual: Digest): StoreError {
  return new StoreError('corrupt', `blob ${digest} is corrupt: its content hashes to ${actual}`, {
    hint: 'Run tsbuild store verify to list damaged objects; load or pull the image again to replace the blob.',
  });
}

function readError(error: unknown, digest: Digest): unknown {
  if (isCode(error, 'ENOENT')) {
    return new StoreError('not-found', `blob ${digest} is not in the store`, {
      hint: 'Load or pull the image again; tsbuild store verify lists what is missing.',
    });
  }
  return error;
}

/** Passes bytes through and fails at the end if they do not hash to `expected`. */
class VerifyingStream extends Transform {
  private readonly hasher = createHash('sha256');
  private readonly expected: Digest;

  constructor(expected: Digest) {
    super();
    this.expected = expected;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hasher.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual: Digest = `sha256:${this.hasher.digest('hex')}`;
    callback(actual === this.expected ? null : corruptBlob(this.expected, actual));
  }
}
