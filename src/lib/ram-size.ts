// Sizes of memory as Docker reads them (`--shm-size`, `RUN --mount=type=tmpfs,size=`): go-units'
// RAMInBytes, where every unit is binary, so `64m`, `64mb` and `64MiB` are all 64 MiB.

/** Bytes in a size such as `64m`, `1.5g` or `512` (bytes); undefined when it is not one. */
export function ramBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$/i.exec(text.trim());
  if (!match) return undefined;
  const power = ' kmgtp'.indexOf(match[2]!.toLowerCase() || ' ');
  return Math.floor(Number(match[1]) * 1024 ** power);
}
