// `tsbuild diff A B`: which layers of two environments differ, and which files, in the format
// of replay's divergence report. The layers both share at the bottom are read once.

import type { Digest } from '../lib/digest.js';
import { imageLayers, type Store } from '../store/index.js';
import type { Environment } from './environment.js';
import { diffEntries, flattenLayers, formatChanges, type FileChange } from './layer-diff.js';

export interface LayerComparison {
  index: number;
  a?: Digest;
  b?: Digest;
}

export interface EnvironmentDiff {
  a: string;
  b: string;
  /** Layers that differ, by position; layers equal at the same position are left out. */
  layers: LayerComparison[];
  /** How many layers the two share at the bottom. */
  sharedLayers: number;
  changes: FileChange[];
}

export async function diffEnvironments(store: Store, a: Environment, b: Environment): Promise<EnvironmentDiff> {
  const layersA = imageLayers(a.image);
  const layersB = imageLayers(b.image);
  const length = Math.max(layersA.length, layersB.length);
  let shared = 0;
  while (shared < length && layersA[shared]?.diffId === layersB[shared]?.diffId) shared++;
  const layers: LayerComparison[] = [];
  for (let i = shared; i < length; i++) {
    if (layersA[i]?.diffId !== layersB[i]?.diffId) layers.push({ index: i, a: layersA[i]?.diffId, b: layersB[i]?.diffId });
  }
  const opener = (digest: Digest) => () => store.openBlob(digest);
  const common = await flattenLayers(layersA.slice(0, shared).map((layer) => opener(layer.descriptor.digest)));
  const filesA = await flattenLayers(layersA.slice(shared).map((layer) => opener(layer.descriptor.digest)), common);
  const filesB = await flattenLayers(layersB.slice(shared).map((layer) => opener(layer.descriptor.digest)), common);
  return { a: a.label, b: b.label, layers, sharedLayers: shared, changes: diffEntries(filesA, filesB) };
}

export function formatEnvironmentDiff(diff: EnvironmentDiff): string {
  const lines = [`--- ${diff.a}`, `+++ ${diff.b}`, `${diff.sharedLayers} layer(s) shared`];
  for (const layer of diff.layers) lines.push(`layer ${layer.index + 1}: ${layer.a ?? '(none)'} → ${layer.b ?? '(none)'}`);
  return `${lines.join('\n')}\n${formatChanges(diff.changes)}`;
}
