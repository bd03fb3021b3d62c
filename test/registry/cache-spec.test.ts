import { describe, expect, it } from 'vitest';
import { parseCacheFrom, parseCacheTo } from '../../src/registry/index.js';

describe('--cache-to / --cache-from values', () => {
  it('reads the buildx spellings', () => {
    expect(parseCacheTo('type=registry,ref=localhost:5000/app:cache,mode=max', '/w')).toEqual({ type: 'registry', ref: 'localhost:5000/app:cache', mode: 'max' });
    expect(parseCacheTo('type=local,dest=cache', '/w')).toEqual({ type: 'local', dest: '/w/cache', mode: 'min' });
    expect(parseCacheFrom('localhost:5000/app:cache', '/w')).toEqual({ type: 'registry', ref: 'localhost:5000/app:cache' });
    expect(parseCacheFrom('type=local,src=/shared/cache', '/w')).toEqual({ type: 'local', src: '/shared/cache' });
  });

  it('names what is wrong', () => {
    expect(() => parseCacheTo('type=registry', '/w')).toThrow('invalid --cache-to "type=registry": ref= is missing');
    expect(() => parseCacheTo('type=s3,bucket=x', '/w')).toThrow('unsupported --cache-to type "s3"');
    expect(() => parseCacheTo('type=local,dest=d,mode=all', '/w')).toThrow('mode must be min or max');
    expect(() => parseCacheFrom('type=local,dst=d', '/w')).toThrow('invalid --cache-from "type=local,dst=d": src= is missing');
    expect(() => parseCacheFrom('type=registry,ref=Bad/Ref', '/w')).toThrow('invalid image reference');
    expect(() => parseCacheFrom('type=registry,oops', '/w')).toThrow('"oops" is not key=value');
    expect(() => parseCacheTo(`type=registry,ref=localhost:5000/app@sha256:${'a'.repeat(64)}`, '/w')).toThrow('name a tag, not a digest');
  });
});
