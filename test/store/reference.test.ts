import { describe, expect, it } from 'vitest';
import { familiarReference, normalizeReference, parseReference } from '../../src/store/index.js';

describe('Docker reference normalisation', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:x', 'docker.io/library/busybox:x', 'busybox:x'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['localhost:5000/a/b:t', 'localhost:5000/a/b:t', 'localhost:5000/a/b:t'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['ghcr.io/org/tool:v1.2.3', 'ghcr.io/org/tool:v1.2.3', 'ghcr.io/org/tool:v1.2.3'],
    ['Registry.Example.com:443/x', 'Registry.Example.com:443/x:latest', 'Registry.Example.com:443/x:latest'],
    ['[::1]:5000/a', '[::1]:5000/a:latest', '[::1]:5000/a:latest'],
    ['a__b/c-d.e_f', 'docker.io/a__b/c-d.e_f:latest', 'a__b/c-d.e_f:latest'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`, `busybox@sha256:${'a'.repeat(64)}`],
    [`busybox:1@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'b'.repeat(64)}`, `busybox:1@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (input, normal, familiar) => {
    expect(normalizeReference(input)).toBe(normal);
    expect(familiarReference(input)).toBe(familiar);
    expect(normalizeReference(normal)).toBe(normal); // idempotent
  });

  it('splits into domain, path, tag and digest', () => {
    expect(parseReference('localhost:5000/a/b:t')).toEqual({ domain: 'localhost:5000', path: 'a/b', tag: 't' });
    expect(parseReference(`x@sha256:${'c'.repeat(64)}`)).toEqual({ domain: 'docker.io', path: 'library/x', digest: `sha256:${'c'.repeat(64)}` });
  });

  it.each([
    ['', 'empty'],
    ['Busybox', 'must be lowercase'],
    ['busybox:', 'tag ""'],
    ['busybox:-x', 'tag "-x"'],
    ['a//b', 'not a valid path component'],
    ['a/-b', 'not a valid path component'],
    ['busybox@sha256:abc', 'digest must be sha256'],
    ['a'.repeat(64), 'image ID'],
    [`${'a'.repeat(256)}`, 'longer than 255'],
    ['bad_host:5000/x', 'not a registry host'],
  ])('rejects %j (%s) with a usage error', (input, why) => {
    expect(() => parseReference(input)).toThrow(why);
    try {
      parseReference(input);
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_USAGE', exitCode: 2 });
    }
  });
});
