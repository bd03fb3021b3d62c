import { readFileSync } from 'node:fs';

/** tsbuild's version, from package.json (the CLI prints it; archives and provenance record it). */
export function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
