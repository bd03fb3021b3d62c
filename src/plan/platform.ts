// Platforms (`os/arch[/variant]`) and the build args Docker predefines from them.

import { UsageError } from '../errors.js';
import { formatPlatform, hostPlatform } from '../lib/platform.js';
import type { TargetPlatform } from './types.js';

export { formatPlatform, hostPlatform };

/** Parses `linux/amd64`, `linux/arm/v7`; the error says how a platform is written. */
export function parsePlatform(text: string): TargetPlatform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9_.-]+$/.test(part))) {
    throw new UsageError(`invalid platform "${text}"`, { hint: 'Write os/arch[/variant], e.g. linux/amd64 or linux/arm/v7.' });
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** TARGETPLATFORM, TARGETOS … BUILDVARIANT, as BuildKit defines them. */
export function platformArgs(target: TargetPlatform, build: TargetPlatform): Record<string, string> {
  return {
    TARGETPLATFORM: formatPlatform(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? '',
    BUILDPLATFORM: formatPlatform(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? '',
  };
}
