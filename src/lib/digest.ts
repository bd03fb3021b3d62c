// sha256 digests in OCI form (`sha256:<64 hex>`). node:crypto only: see DESIGN.md (Hashing).

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

/** Throws unless `value` is a well-formed sha256 digest; guards every path built from one. */
export function assertDigest(value: string): Digest {
  if (!isDigest(value)) throw new TypeError(`not a sha256 digest: ${JSON.stringify(value)}`);
  return value;
}

export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function sha256File(path: string): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** A pass-through stream that hashes and counts what flows through it. */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  /** Valid once the stream has ended. */
  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
