// `--annotation` values as buildx spells them, and which of them an image and its outputs can carry.

import { describe, expect, it } from 'vitest';
import { imageAnnotations, parseAnnotation } from '../../src/export/annotations.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };

describe('--annotation', () => {
  it('KEY=VALUE is a manifest annotation; a value may hold = and :', () => {
    expect(parseAnnotation('org.opencontainers.image.url=https://example.com/a=b')).toEqual([
      { type: 'manifest', key: 'org.opencontainers.image.url', value: 'https://example.com/a=b' },
    ]);
  });

  it('TYPE,TYPE[PLATFORM]:KEY=VALUE is one annotation per type', () => {
    expect(parseAnnotation('index,manifest[linux/arm/v7]:k=')).toEqual([
      { type: 'index', key: 'k', value: '' },
      { type: 'manifest', platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, key: 'k', value: '' },
    ]);
  });

  it.each([
    ['k', 'expected KEY=VALUE'],
    ['=v', 'the key is empty'],
    ['manifest:=v', 'the key is empty'],
    ['layer:k=v', 'unknown annotation type "layer"'],
    ['org.example:k=v', '"org.example" is not a type'],
    ['manifest[linux]:k=v', 'invalid platform "linux"'],
    ['manifest[linux/amd64:k=v', 'is not a type'],
  ])('%s is a usage error with a hint', (text, message) => {
    expect(() => parseAnnotation(text)).toThrow(expect.objectContaining({ code: 'E_USAGE', message: expect.stringContaining(message), hint: expect.any(String) }));
  });

  it('sorts annotations by where they go; the last value of a key wins', () => {
    const parsed = ['a=1', 'manifest:a=2', 'manifest-descriptor,index:b=3', 'manifest[linux/amd64]:c=4'].flatMap(parseAnnotation);
    expect(imageAnnotations(parsed, AMD64, true)).toEqual({ manifest: { a: '2', c: '4' }, manifestDescriptor: { b: '3' }, index: { b: '3' } });
  });

  it('a variant is compared only when the annotation names one', () => {
    const arm = { os: 'linux', architecture: 'arm', variant: 'v7' };
    expect(imageAnnotations(parseAnnotation('manifest[linux/arm]:a=1'), arm, false).manifest).toEqual({ a: '1' });
    expect(() => imageAnnotations(parseAnnotation('manifest[linux/arm/v6]:a=1'), arm, false)).toThrow(/no image for linux\/arm\/v6, only for linux\/arm\/v7/);
  });

  it('refuses what no output can carry', () => {
    expect(() => imageAnnotations(parseAnnotation('index-descriptor:a=1'), AMD64, true)).toThrow(/no image index whose descriptor could carry it/);
    expect(() => imageAnnotations(parseAnnotation('index:a=1'), AMD64, false)).toThrow(/no output of this build has an index.json/);
    expect(() => imageAnnotations(parseAnnotation('manifest-descriptor:a=1'), AMD64, false)).toThrow(/no output of this build has an index.json/);
    expect(imageAnnotations(parseAnnotation('manifest:a=1'), AMD64, false).manifest).toEqual({ a: '1' });
  });
});
