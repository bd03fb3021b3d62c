// From a manifest or index descriptor to the image: an index (multi-platform) resolves to the
// manifest for this host's platform, else its first image manifest.

import { StoreError } from '../errors.js';
import { MediaType, type Descriptor, type ImageConfig, type Index, type Manifest } from '../layer/oci.js';
import { hostPlatform, type PlatformName } from '../lib/platform.js';
import type { BlobStore } from './blobs.js';
import type { LayerRef, StoredImage } from './types.js';

const INDEX_TYPES = new Set<string>([MediaType.ociIndex, MediaType.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaType.ociManifest, MediaType.dockerManifest]);

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(mediaType);
}

const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig]);

/** An OCI artifact (a build record, a cache manifest…): a manifest whose config is not an image config. */
export function isArtifactManifest(manifest: Manifest): boolean {
  return !IMAGE_CONFIG_TYPES.has(manifest.config.mediaType);
}

export { hostPlatform };

export async function resolveImage(blobs: BlobStore, descriptor: Descriptor, platform: PlatformName = hostPlatform()): Promise<StoredImage> {
  let current = descriptor;
  for (let depth = 0; isIndexType(current.mediaType); depth++) {
    if (depth > 4) throw new StoreError('invalid', `index ${descriptor.digest} nests too deeply`);
    const index = await blobs.readJson<Index>(current.digest);
    const images = index.manifests.filter((m) => isManifestType(m.mediaType) || isIndexType(m.mediaType));
    const match = images.find((m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture) ?? images[0];
    if (!match) throw new StoreError('invalid', `index ${current.digest} lists no image manifest`);
    current = match;
  }
  if (!isManifestType(current.mediaType)) {
    throw new StoreError('invalid', `${current.digest} has media type ${current.mediaType}, not an image manifest`);
  }
  const manifest = await blobs.readJson<Manifest>(current.digest);
  const config = await blobs.readJson<ImageConfig>(manifest.config.digest);
  const { annotations: _ignored, ...manifestDescriptor } = current;
  return { manifestDescriptor, manifest, config };
}

/** The image's layers paired with their diffIDs; fails when config and manifest disagree. */
export function imageLayers(image: StoredImage): LayerRef[] {
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== image.manifest.layers.length) {
    throw new StoreError('corrupt', `image ${image.manifestDescriptor.digest} has ${image.manifest.layers.length} layers but its config lists ${diffIds.length} diff_ids`);
  }
  return image.manifest.layers.map((descriptor, i) => ({ descriptor, diffId: diffIds[i]! }));
}
