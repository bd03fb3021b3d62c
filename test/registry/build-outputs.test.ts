// `--output` values that name or push the built image, as buildx spells them, and the names a
// build tags and pushes from them with -t and --push.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { imageNames, parseImageOutput } from '../../src/registry/build-outputs.js';

describe('parseImageOutput', () => {
  it.each([
    ['type=registry,name=localhost:5000/app:1', { names: ['localhost:5000/app:1'], push: true }],
    ['type=registry', { names: [], push: true }],
    ['type=image,name=app:1', { names: ['app:1'], push: false }],
    ['type=image,name=app:1,push=true', { names: ['app:1'], push: true }],
    ['push=true,type=image,name=a:1,b:2', { names: ['a:1', 'b:2'], push: true }],
  ])('%s', (text, expected) => {
    expect(parseImageOutput(text)).toEqual(expected);
  });

  it('leaves file and directory outputs to the exporters', () => {
    expect(parseImageOutput('type=oci,dest=out.tar')).toBeUndefined();
    expect(parseImageOutput('type=local,dest=dir')).toBeUndefined();
  });

  it('refuses what it would otherwise ignore', () => {
    expect(() => parseImageOutput('type=registry,name=app:1,compression=zstd')).toThrow(/unsupported attribute compression=/);
    expect(() => parseImageOutput('type=image,name=app:1,push=yes')).toThrow(/push must be true or false/);
    expect(() => parseImageOutput('type=registry,name=a b')).toThrow(/invalid image reference/);
  });
});

describe('imageNames', () => {
  it('tags -t names and output names, and pushes what the outputs and --push say', () => {
    const outputs = [parseImageOutput('type=image,name=local:1')!, parseImageOutput('type=registry,name=reg:5000/app:1')!];
    expect(imageNames(['app:1'], outputs, false)).toEqual({ names: ['app:1', 'local:1', 'reg:5000/app:1'], push: ['reg:5000/app:1'] });
    expect(imageNames(['reg:5000/app:1'], [], true)).toEqual({ names: ['reg:5000/app:1'], push: ['reg:5000/app:1'] });
    expect(imageNames(['reg:5000/app:2'], [parseImageOutput('type=registry')!], false).push).toEqual(['reg:5000/app:2']);
  });

  it('a push with no name at all is a usage error', () => {
    expect(() => imageNames([], [parseImageOutput('type=registry')!], false)).toThrow(UsageError);
    expect(() => imageNames([], [], true)).toThrow(/a push needs a name/);
  });
});
