// The JSON blobs of a build archive (build.json, the provenance, manifests…), read with tar
// as any user could, for tests that check what an archive records.

import { execFileSync } from 'node:child_process';

export function archivedJson(archive: string): Array<Record<string, unknown>> {
  const names = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n').filter((name) => name.startsWith('blobs/sha256/'));
  return names.flatMap((name) => {
    const text = execFileSync('tar', ['-xOf', archive, name], { maxBuffer: 1 << 28 }).toString('utf8');
    try {
      return text.startsWith('{') ? [JSON.parse(text) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

export interface ResolvedDependency {
  uri: string;
  digest: Record<string, string>;
}

/** The SLSA provenance's resolved dependencies in an archive. */
export function provenanceDependencies(archive: string): ResolvedDependency[] {
  const statement = archivedJson(archive).find((json) => json.predicateType === 'https://slsa.dev/provenance/v1') as
    { predicate: { buildDefinition: { resolvedDependencies: ResolvedDependency[] } } } | undefined;
  if (!statement) throw new Error(`${archive} holds no SLSA provenance`);
  return statement.predicate.buildDefinition.resolvedDependencies;
}
