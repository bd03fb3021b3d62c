// Choosing one image from a multi-platform index: os and architecture must match; a variant
// is compared only when the wanted platform names one (as containerd's matcher does, minus
// its arm fallbacks).

import type { Descriptor, Platform } from '../layer/oci.js';

function matchesPlatform(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || candidate.variant === wanted.variant;
}

export function selectPlatform(manifests: Descriptor[], wanted: Platform): Descriptor | undefined {
  return manifests.find((m) => matchesPlatform(m.platform, wanted));
}
