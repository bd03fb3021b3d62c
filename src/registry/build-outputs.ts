// `--output type=registry,name=REF` and `--output type=image,name=REF,push=true` as buildx
// spells them: the built image gets the names in the store and, for a registry output or
// push=true, is pushed to them. Without name= the build's -t names are meant.

import { UsageError } from '../errors.js';
import { parseReference } from '../store/reference.js';

export interface ImageOutput {
  /** Empty: the build's own names (`-t`). */
  names: string[];
  push: boolean;
}

const IMAGE_OUTPUT_TYPES = ['registry', 'image'];

/** An image output, or undefined when `text` names another output type (a file or directory). */
export function parseImageOutput(text: string): ImageOutput | undefined {
  const attrs: Record<string, string> = {};
  const names: string[] = [];
  let last: string | undefined;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    // buildx's "name=a,b": a bare value after name= is one more name.
    if (eq < 0) {
      if (last === 'name' && part.trim()) names.push(part.trim());
      continue;
    }
    last = part.slice(0, eq).trim();
    attrs[last] = part.slice(eq + 1).trim();
    if (last === 'name' && attrs.name) names.push(attrs.name);
  }
  const { type, push, ...rest } = attrs;
  if (!type || !IMAGE_OUTPUT_TYPES.includes(type)) return undefined;
  const unsupported = Object.keys(rest).find((key) => key !== 'name');
  if (unsupported !== undefined) throw new UsageError(`--output "${text}": unsupported attribute ${unsupported}=`, { hint: 'Image outputs take name=REF and push=true|false.' });
  if (push !== undefined && push !== 'true' && push !== 'false') throw new UsageError(`--output "${text}": push must be true or false`);
  for (const name of names) parseReference(name);
  return { names, push: type === 'registry' || push === 'true' };
}

/**
 * The names a build gives its image (`-t` and image outputs) and those it pushes (`--push`:
 * every `-t` name; a pushing output: its names, or the `-t` names when it has none).
 */
export function imageNames(tags: readonly string[], outputs: readonly ImageOutput[], pushTags: boolean): { names: string[]; push: string[] } {
  const names = new Set(tags);
  const push = new Set(pushTags ? tags : []);
  for (const output of outputs) {
    output.names.forEach((name) => names.add(name));
    if (output.push) (output.names.length > 0 ? output.names : tags).forEach((name) => push.add(name));
  }
  if ((pushTags || outputs.some((o) => o.push && o.names.length === 0)) && tags.length === 0) {
    throw new UsageError('a push needs a name: none was given with -t or name=', { hint: 'e.g. -t registry.example/app:1 --push, or --output type=registry,name=registry.example/app:1' });
  }
  return { names: [...names], push: [...push] };
}
