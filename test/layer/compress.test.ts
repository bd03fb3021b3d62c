// Compression: deterministic gzip, format detection by magic bytes, and zstd where the runtime
// has it — a clear LayerError where it does not (Node 20's zlib has no zstd).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { compressLayer, detectCompression, extractLayer, zstdAvailable } from '../../src/layer/index.js';
import { file, tar } from '../../fixtures/tars/build.js';
import { layerBytes, streamOf, tempDir } from './tree.js';

const sample = tar(file('hello', 'hello world\n'), file('zeros', Buffer.alloc(100_000).toString()));
const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('compressLayer', () => {
  it('gzip: same bytes for the same input and level, different for another level, no mtime or name', async () => {
    const a = await buffer(compressLayer(Readable.from([sample]), 'gzip', 6));
    const b = await buffer(compressLayer(Readable.from([sample]), 'gzip', 6));
    const c = await buffer(compressLayer(Readable.from([sample]), 'gzip', 1));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    expect(gunzipSync(a).equals(sample)).toBe(true);
    expect(a.readUInt32LE(4)).toBe(0);
    expect(a[3]).toBe(0);
  });

  it('rejects a gzip level outside 0–9', () => {
    expect(() => compressLayer(Readable.from([sample]), 'gzip', 12)).toThrow(LayerError);
  });

  it('detects the format from magic bytes', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(sample)).toBe('none');
    expect(() => detectCompression(Buffer.from('BZh91AY'))).toThrow(/xz or bzip2/);
  });

  it('extracts a gzip layer labelled as plain tar (the bytes decide, not the mediaType)', async () => {
    const gz = await buffer(compressLayer(Readable.from([sample]), 'gzip'));
    const dest = tempDir();
    const result = await extractLayer(streamOf(gz), dest, { whiteouts: 'overlay', mediaType: 'application/vnd.oci.image.layer.v1.tar' });
    expect(result.diffId).toBe(sha(sample));
  });

  const zstdFile = () => execFileSync('zstd', ['-q', '-c'], { input: sample });

  if (zstdAvailable()) {
    it(`zstd round trip (this runtime, ${process.version}, has zstd)`, async () => {
      const dest = tempDir();
      const result = await extractLayer(streamOf(zstdFile()), dest, { whiteouts: 'overlay' });
      expect(result.diffId).toBe(sha(sample));
      const written = await layerBytes(dest, { compression: 'zstd' });
      expect(written.compressed!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    });
  } else {
    it(`zstd is refused with a clear error (this runtime, ${process.version}, has no zstd)`, async () => {
      const dest = tempDir();
      const error = await extractLayer(streamOf(zstdFile()), dest, { whiteouts: 'overlay' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LayerError);
      expect((error as LayerError).code).toBe('E_LAYER_UNSUPPORTED');
      expect((error as LayerError).message).toMatch(/zstd is not available in this Node.js runtime/);
      expect((error as LayerError).hint).toMatch(/compression=gzip/);
      expect(() => compressLayer(Readable.from([sample]), 'zstd')).toThrow(/zstd is not available/);
      await expect(layerBytes(dest, { compression: 'zstd' })).rejects.toThrow(/zstd is not available/);
    });
  }
});
