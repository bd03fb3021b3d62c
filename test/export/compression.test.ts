// --output …,compression=gzip: layers compressed on request, deterministically, the config
// (and so the diffIDs) untouched; an unsupported compressor or level is a usage error.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTree } from '../helpers/testdir.js';
import { openSession, type Session } from '../e2e/session.js';

const raw = (archive: string, what: string) =>
  JSON.parse(execFileSync('skopeo', ['inspect', '--raw', ...(what === 'config' ? ['--config'] : []), `oci-archive:${archive}`], { encoding: 'utf8' }));

describe('compressed outputs', () => {
  let session: Session;
  let work: string;
  let build: (output: string) => ReturnType<Session['tsbuild']>;

  beforeAll(async () => {
    session = await openSession();
    work = session.dir;
    const context = join(work, 'context');
    writeTree(context, { Dockerfile: 'FROM busybox\nRUN seq 1 20000 > /numbers\n' });
    build = (output) => session.tsbuild(['build', '--progress', 'quiet', '-t', 'compressed:latest', '-o', output, context]);
  });
  afterAll(() => session.close());

  it('gzip layers, deterministic, smaller, with the same config', async () => {
    const plain = join(work, 'plain.tar');
    const first = join(work, 'gzip-1.tar');
    const second = join(work, 'gzip-2.tar');
    expect((await build(`type=oci,dest=${plain}`)).status).toBe(0);
    expect((await build(`type=oci,dest=${first},compression=gzip,compression-level=9`)).status).toBe(0);
    expect((await build(`type=oci,dest=${second},compression=gzip,compression-level=9`)).status).toBe(0);
    const manifest = raw(first, 'manifest');
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip',
    ]);
    expect(manifest.layers[1].annotations['dev.tsbuild.compression']).toBe('gzip-9');
    expect(raw(first, 'config')).toEqual(raw(plain, 'config'));
    expect(readFileSync(first).equals(readFileSync(second))).toBe(true);
    expect(readFileSync(first).length).toBeLessThan(readFileSync(plain).length);
    const layout = join(work, 'layout');
    mkdirSync(layout);
    execFileSync('tar', ['-xf', first, '-C', layout]);
    execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, join(work, 'bundle')]);
    expect(readFileSync(join(work, 'bundle/rootfs/numbers'), 'utf8').split('\n')[19999]).toBe('20000');
  });

  it('refuses an unknown compressor or level', async () => {
    const bad = await build(`type=oci,dest=${join(work, 'x.tar')},compression=lz4`);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('compression=lz4 is not supported');
    const level = await build(`type=oci,dest=${join(work, 'y.tar')},compression=gzip,compression-level=12`);
    expect(level.status).toBe(2);
    expect(level.stderr).toContain('gzip levels are 0 to 9');
  });
});
