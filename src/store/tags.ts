// Tags live in the root's index.json as OCI-layout descriptors whose ref.name annotation is
// the normalised reference, so the store root is itself readable by skopeo and umoci.
// Updates are read-modify-write under the `tags` lock, written atomically.

import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { isCode, withLock } from '../lib/lock.js';
import { Annotation, MediaType, type Descriptor, type Index } from '../layer/oci.js';
import { storeFsError } from './fs-errors.js';
import type { StoreLayout } from './layout.js';
import { formatReference, parseReference } from './reference.js';

export interface TagEntry {
  /** Normalised: docker.io/library/busybox:latest */
  reference: string;
  descriptor: Descriptor;
}

export class TagStore {
  private readonly layout: StoreLayout;

  constructor(layout: StoreLayout) {
    this.layout = layout;
  }

  async list(): Promise<TagEntry[]> {
    const index = await this.readIndex();
    return index.manifests.flatMap((descriptor) => {
      const reference = descriptor.annotations?.[Annotation.refName];
      if (reference === undefined) return [];
      const { annotations: _dropped, ...plain } = descriptor;
      return [{ reference, descriptor: plain }];
    });
  }

  async get(reference: string): Promise<Descriptor | undefined> {
    const key = tagKey(reference);
    return (await this.list()).find((entry) => entry.reference === key)?.descriptor;
  }

  async set(reference: string, descriptor: Descriptor): Promise<void> {
    const key = tagKey(reference);
    await this.update((entries) => [...entries.filter((e) => e.reference !== key), { reference: key, descriptor }]);
  }

  /** Removes tags; returns the ones that existed, with what they pointed at. */
  async remove(references: string[]): Promise<TagEntry[]> {
    const keys = new Set(references.map(tagKey));
    let removed: TagEntry[] = [];
    await this.update((entries) => {
      removed = entries.filter((e) => keys.has(e.reference));
      return entries.filter((e) => !keys.has(e.reference));
    });
    return removed;
  }

  private async update(change: (entries: TagEntry[]) => TagEntry[]): Promise<void> {
    try {
      await this.updateLocked(change);
    } catch (error) {
      throw storeFsError(error, 'updating the tag index');
    }
  }

  private async updateLocked(change: (entries: TagEntry[]) => TagEntry[]): Promise<void> {
    await withLock(
      this.layout.lock('tags'),
      async () => {
        const entries = change(await this.list());
        entries.sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
        const index: Index = {
          schemaVersion: 2,
          mediaType: MediaType.ociIndex,
          manifests: entries.map((e) => ({
            ...e.descriptor,
            annotations: { ...e.descriptor.annotations, [Annotation.refName]: e.reference },
          })),
        };
        await writeFileAtomic(this.layout.indexPath, canonicalJson(index) + '\n');
      },
      { purpose: 'tag update' },
    );
  }

  private async readIndex(): Promise<Index> {
    try {
      return JSON.parse(await readFile(this.layout.indexPath, 'utf8')) as Index;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
      throw error;
    }
  }
}

/** The key a tag is stored under: the normalised name:tag; a digest has no place in a tag. */
export function tagKey(reference: string): string {
  const ref = parseReference(reference);
  if (ref.digest !== undefined) {
    throw new UsageError(`${reference} pins a digest; a tag needs NAME[:TAG]`, { hint: 'Drop the @sha256:… part.' });
  }
  return formatReference(ref);
}
