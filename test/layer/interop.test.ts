// Layers written by writeLayer, read by a real OCI tool: umoci unpacks an image of two layers —
// a base tree and a real overlayfs upper dir (gzip) with whiteouts, an opaque directory, a
// hardlink, a symlink and a file capability — and must see exactly what the overlay mount showed.

import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/lib/canonical-json.js';
import { digestHex, sha256 } from '../../src/lib/digest.js';
import { MediaType, writeLayer, type ImageConfig, type Manifest, type WriteLayerOptions } from '../../src/layer/index.js';
import { describeTree, sh, tempDir } from './tree.js';

const EPOCH = 2_000_000_000;

async function addLayer(blobs: string, dir: string, options: Partial<WriteLayerOptions>) {
  const temp = join(blobs, 'incoming');
  const result = await writeLayer(dir, createWriteStream(temp), { sourceDateEpoch: EPOCH, kind: 'directory', ...options });
  const digest = result.compressed?.digest ?? result.diffId;
  renameSync(temp, join(blobs, digestHex(digest)));
  const descriptor = {
    mediaType: result.compressed?.mediaType ?? MediaType.ociLayer,
    digest,
    size: result.compressed?.size ?? result.size,
  };
  return { descriptor, diffId: result.diffId };
}

function putJson(blobs: string, value: unknown, mediaType: string) {
  const bytes = Buffer.from(canonicalJson(value));
  writeFileSync(join(blobs, digestHex(sha256(bytes))), bytes);
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

describe('interoperability', () => {
  it('umoci unpacks base + overlay-upper layers to what the overlay mount showed', async () => {
    const base = tempDir();
    const [lower, upper, work, merged, layout] = ['lower', 'upper', 'work', 'merged', 'layout'].map((n) => join(base, n)) as [string, string, string, string, string];
    for (const d of [lower, upper, work, merged]) mkdirSync(d);
    sh('mkdir -p etc opt/old var && echo a > etc/a && echo gone > etc/gone && echo x > opt/old/x && ln -s ../etc/a var/link', lower);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    let expected: Record<string, string>;
    try {
      sh(
        `rm etc/gone && rm -r opt/old && mkdir opt/old && echo new > opt/old/y
         echo changed > etc/a && ln etc/a etc/a-hard && ln -s /etc/a abs-link
         cp /bin/true ping && setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 ping`,
        merged,
      );
      expected = describeTree(merged, { mtimes: false });
    } finally {
      execFileSync('umount', [merged]);
    }

    const blobs = join(layout, 'blobs/sha256');
    mkdirSync(blobs, { recursive: true });
    const layers = [await addLayer(blobs, lower, {}), await addLayer(blobs, upper, { kind: 'overlay-upper', compression: 'gzip' })];
    const config: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    };
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: putJson(blobs, config, MediaType.ociConfig),
      layers: layers.map((l) => l.descriptor),
    };
    const manifestDescriptor = putJson(blobs, manifest, MediaType.ociManifest);
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(
      join(layout, 'index.json'),
      canonicalJson({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ ...manifestDescriptor, annotations: { 'org.opencontainers.image.ref.name': 'test' } }] }),
    );

    const bundle = join(base, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:test`, bundle], { stdio: 'pipe' });
    const unpacked = describeTree(join(bundle, 'rootfs'), { mtimes: false });
    expect(unpacked).toEqual(expected);
    expect(unpacked['ping']).toContain('security.capability=0x0100000200200000000000000000000000000000');
    expect(unpacked['etc/gone']).toBeUndefined();
    expect(Object.keys(unpacked).filter((p) => p.startsWith('opt/old/'))).toEqual(['opt/old/y']);
  });
});
