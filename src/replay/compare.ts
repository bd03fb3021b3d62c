// Step-by-step comparison of a rebuild with its archive: a step reproduced when the layers of
// the environment after it are the same diffIDs. The first step that differs is where a
// divergence came in; the layers to compare are the first position where the chains differ.

import type { Digest } from '../lib/digest.js';

export interface StepLayers {
  id: number;
  diffIds: Digest[];
}

export interface Divergence {
  step: number;
  /** Position in the layer chain where the two builds first differ. */
  layerIndex: number;
  archived?: Digest;
  rebuilt?: Digest;
}

export interface StepComparison {
  total: number;
  reproduced: number;
  /** Steps whose layers differ, in order. */
  divergent: number[];
  first?: Divergence;
}

export function compareSteps(archived: readonly StepLayers[], rebuilt: readonly StepLayers[]): StepComparison {
  const rebuiltById = new Map(rebuilt.map((step) => [step.id, step.diffIds]));
  const divergent: number[] = [];
  let first: Divergence | undefined;
  for (const step of archived) {
    const again = rebuiltById.get(step.id) ?? [];
    const layerIndex = firstDifference(step.diffIds, again);
    if (layerIndex === undefined) continue;
    divergent.push(step.id);
    first ??= { step: step.id, layerIndex, archived: step.diffIds[layerIndex], rebuilt: again[layerIndex] };
  }
  return { total: archived.length, reproduced: archived.length - divergent.length, divergent, ...(first ? { first } : {}) };
}

function firstDifference(a: readonly Digest[], b: readonly Digest[]): number | undefined {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return undefined;
}
