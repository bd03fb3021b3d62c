// Deterministic pseudo-random content for benchmarks: the same seed gives the same bytes on
// every run and machine, and the bytes do not compress (AES-CTR keystream of zeros).

import { createCipheriv } from 'node:crypto';

/** A function that returns the next `size` bytes of the keystream for `seed`. */
export function keystream(seed) {
  const key = Buffer.alloc(16);
  key.write(String(seed));
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (size) => cipher.update(Buffer.alloc(size));
}

/** A small deterministic PRNG (mulberry32) for choosing sizes and names. */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
