// Choosing one image from a multi-platform index: os and architecture must match; a variant
// is compared only when the wanted platform names one (as containerd's matcher does, minus
// its arm fallbacks).

import type { Descriptor, Platform } from '../layer/oci.js';
import { platformMatches } from '../lib/platform.js';

export function selectPlatform(manifests: Descriptor[], wanted: Platform): Descriptor | undefined {
  return manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, wanted));
}
