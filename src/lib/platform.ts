// The host's platform and the `os/arch[/variant]` spelling, shared by plan/ (target and build
// platforms), store/ (choosing from an index) and registry/ (pulls).

export interface PlatformName {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64' },
  arm: { architecture: 'arm', variant: 'v7' },
  ia32: { architecture: '386' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
};

/** This host in OCI terms (Node's `x64` is `amd64`). */
export function hostPlatform(): PlatformName {
  const arch = NODE_ARCH[process.arch] ?? { architecture: process.arch };
  return { os: 'linux', ...arch };
}

/** `candidate` is `wanted`: os and architecture equal, and the variant too when `wanted` names one. */
export function platformMatches(candidate: PlatformName, wanted: PlatformName): boolean {
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || candidate.variant === wanted.variant;
}

export function formatPlatform(platform: PlatformName): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
