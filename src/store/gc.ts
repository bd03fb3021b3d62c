// Reachability, after containerd's pkg/gc: `mark` is a pure tricolour mark over roots and a
// refs function; `storeRefs` supplies the store's edges (index → manifests, manifest →
// config + layers + the snapshots of its diffIDs). prune, du and verify all walk with it.

import type { Digest } from '../lib/digest.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../layer/oci.js';
import type { BlobStore } from './blobs.js';
import { isIndexType, isManifestType } from './images.js';

export type GcNode =
  | { kind: 'blob'; digest: Digest; mediaType?: string }
  | { kind: 'snapshot'; diffId: Digest };

export function nodeKey(node: GcNode): string {
  return node.kind === 'blob' ? `blob:${node.digest}` : `snapshot:${node.diffId}`;
}

/** The node a key names (the inverse of nodeKey, less a blob's media type). */
export function parseNodeKey(key: string): GcNode {
  const colon = key.indexOf(':');
  const digest = key.slice(colon + 1) as Digest;
  return key.startsWith('blob:') ? { kind: 'blob', digest } : { kind: 'snapshot', diffId: digest };
}

export function blobNode(descriptor: Pick<Descriptor, 'digest' | 'mediaType'>): GcNode {
  return { kind: 'blob', digest: descriptor.digest, mediaType: descriptor.mediaType };
}

/** Every node reachable from `roots`, by key. Pure: all knowledge of edges is in `refs`. */
export async function mark(roots: Iterable<GcNode>, refs: (node: GcNode) => Promise<GcNode[]> | GcNode[]): Promise<Map<string, GcNode>> {
  const black = new Map<string, GcNode>();
  const grey: GcNode[] = [];
  const shade = (node: GcNode) => {
    const key = nodeKey(node);
    if (black.has(key)) return;
    black.set(key, node);
    grey.push(node);
  };
  for (const root of roots) shade(root);
  while (grey.length > 0) {
    for (const child of await refs(grey.pop()!)) shade(child);
  }
  return black;
}

/** JSON blobs smaller than this are read to learn their type when a lease names only a digest. */
const SNIFF_LIMIT = 4 << 20;

/**
 * The store's edges. A blob that is missing or unreadable has no edges here; verify is the
 * place that reports it. A blob of unknown type (leased by digest) is sniffed as JSON.
 */
export function storeRefs(blobs: BlobStore): (node: GcNode) => Promise<GcNode[]> {
  return async (node) => {
    if (node.kind !== 'blob') return [];
    let mediaType = node.mediaType;
    try {
      if (mediaType === undefined) {
        const size = await blobs.size(node.digest);
        if (size === undefined || size > SNIFF_LIMIT) return [];
        mediaType = sniffMediaType(await blobs.readJson<Record<string, unknown>>(node.digest));
      }
      if (isIndexType(mediaType)) {
        return (await blobs.readJson<Index>(node.digest)).manifests.map(blobNode);
      }
      if (isManifestType(mediaType)) {
        const manifest = await blobs.readJson<Manifest>(node.digest);
        const config = await blobs.readJson<ImageConfig>(manifest.config.digest).catch(() => undefined);
        const snapshots: GcNode[] = (config?.rootfs?.diff_ids ?? []).map((diffId) => ({ kind: 'snapshot', diffId }));
        return [blobNode(manifest.config), ...manifest.layers.map(blobNode), ...snapshots];
      }
    } catch {
      return [];
    }
    return [];
  };
}

function sniffMediaType(json: Record<string, unknown>): string {
  if (typeof json.mediaType === 'string') return json.mediaType;
  if (Array.isArray(json.manifests)) return 'application/vnd.oci.image.index.v1+json';
  if (Array.isArray(json.layers)) return 'application/vnd.oci.image.manifest.v1+json';
  return 'application/octet-stream';
}
