// `--cache-to` / `--cache-from` values as buildx spells them: `type=registry,ref=REF[,mode=max]`,
// `type=local,dest=DIR` / `type=local,src=DIR`, and a bare `REF` meaning a registry.

import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseReference } from '../store/reference.js';
import type { CacheSource, CacheTarget } from './cache.js';

type Flag = '--cache-to' | '--cache-from';

function attributes(text: string, flag: Flag): Record<string, string> {
  if (!text.includes('=')) return { type: 'registry', ref: text };
  const attrs: Record<string, string> = {};
  for (const part of text.split(',')) {
    const [key, ...value] = part.split('=');
    if (!key || value.length === 0) throw new UsageError(`invalid ${flag} "${text}": "${part}" is not key=value`, { hint: `e.g. ${flag} type=registry,ref=localhost:5000/app:cache` });
    attrs[key.trim()] = value.join('=').trim();
  }
  return attrs;
}

function required(attrs: Record<string, string>, key: string, text: string, flag: Flag): string {
  const value = attrs[key];
  if (!value) throw new UsageError(`invalid ${flag} "${text}": ${key}= is missing`, { hint: `e.g. ${flag} type=${attrs.type},${key}=…` });
  return value;
}

function unsupportedType(type: string | undefined, flag: Flag): UsageError {
  return new UsageError(`unsupported ${flag} type "${type ?? ''}"`, { hint: 'Supported types: registry, local.' });
}

export function parseCacheTo(text: string, cwd: string): CacheTarget {
  const flag = '--cache-to';
  const attrs = attributes(text, flag);
  const mode = attrs.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new UsageError(`invalid ${flag} "${text}": mode must be min or max`);
  if (attrs.type === 'registry') {
    const ref = required(attrs, 'ref', text, flag);
    if (parseReference(ref).digest !== undefined) throw new UsageError(`invalid ${flag} "${text}": name a tag, not a digest`);
    return { type: 'registry', ref, mode };
  }
  if (attrs.type === 'local') return { type: 'local', dest: resolve(cwd, required(attrs, 'dest', text, flag)), mode };
  throw unsupportedType(attrs.type, flag);
}

export function parseCacheFrom(text: string, cwd: string): CacheSource {
  const flag = '--cache-from';
  const attrs = attributes(text, flag);
  if (attrs.type === 'registry') {
    const ref = required(attrs, 'ref', text, flag);
    parseReference(ref);
    return { type: 'registry', ref };
  }
  if (attrs.type === 'local') return { type: 'local', src: resolve(cwd, required(attrs, 'src', text, flag)) };
  throw unsupportedType(attrs.type, flag);
}
