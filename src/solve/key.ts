// Cache keys. Once keys ship, their format is an API: a cache written by one version must
// never produce a wrong hit in another, so any change to what goes into a key, or to how it is
// encoded, bumps KEY_VERSION (which changes every key) instead of reinterpreting old ones.
//
// Format (version 2):
//   definition digest = sha256(encode(["tsbuild.definition", KEY_VERSION, definition]))
//   cache key         = sha256(encode(["tsbuild.cache-key", KEY_VERSION, definitionDigest,
//                                      [inputKey, …], [contentDigest, …]]))
// where encode() is a tagged, length-prefixed encoding, so that no two different values
// encode to the same bytes (["ab","c"] and ["a","bc"] differ):
//   string  "s" <utf-8 byte length> ":" <utf-8 bytes>
//   number  "n" <decimal> ";"            (finite numbers only)
//   boolean "t" | "f"          null "z"
//   array   "l" <count> ":" <item>…
//   object  "m" <count> ":" (<key as string> <value>)…, keys sorted by code unit, undefined
//           values dropped (an absent field and an undefined one are the same definition)

import { createHash } from 'node:crypto';
import type { Digest } from '../lib/digest.js';

// Version 2: layer steps carry SOURCE_DATE_EPOCH (it decides the file times in their layers).
export const KEY_VERSION = 2;

export type KeyValue = string | number | boolean | null | undefined | readonly KeyValue[] | { readonly [key: string]: KeyValue };

export function encodeKeyValue(value: KeyValue): Buffer {
  const chunks: Buffer[] = [];
  encodeInto(value, chunks);
  return Buffer.concat(chunks);
}

function encodeInto(value: KeyValue, out: Buffer[]): void {
  if (value === null || value === undefined) {
    out.push(Buffer.from('z'));
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    out.push(Buffer.from(`s${bytes.length}:`), bytes);
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cache key field is not a finite number: ${value}`);
    out.push(Buffer.from(`n${value};`));
  } else if (typeof value === 'boolean') {
    out.push(Buffer.from(value ? 't' : 'f'));
  } else if (Array.isArray(value)) {
    out.push(Buffer.from(`l${value.length}:`));
    for (const item of value as readonly KeyValue[]) encodeInto(item, out);
  } else {
    const record = value as { readonly [key: string]: KeyValue };
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    out.push(Buffer.from(`m${keys.length}:`));
    for (const key of keys) {
      encodeInto(key, out);
      encodeInto(record[key], out);
    }
  }
}

function digestOf(value: KeyValue): Digest {
  return `sha256:${createHash('sha256').update(encodeKeyValue(value)).digest('hex')}`;
}

/** The digest of what a step is, before its inputs are known: equal digests mean identical work. */
export function definitionDigest(definition: KeyValue): Digest {
  return digestOf(['tsbuild.definition', KEY_VERSION, definition]);
}

/** A step's cache key: its own definition, its inputs' keys, and the content it reads. */
export function cacheKey(definition: string, inputKeys: readonly string[], contentDigests: readonly string[]): Digest {
  return digestOf(['tsbuild.cache-key', KEY_VERSION, definition, inputKeys, contentDigests]);
}
