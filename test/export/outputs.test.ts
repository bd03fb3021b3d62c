import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { isDockerLoadOutput, parseOutputSpec, writeOutput } from '../../src/export/outputs.js';
import type { Store } from '../../src/store/store.js';
import type { StoredImage } from '../../src/store/types.js';
import { makeImage } from './make-image.js';

const skopeo = (...args: string[]) => JSON.parse(execFileSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8' }));

describe('image outputs (--output type=oci|docker)', () => {
  let work: string;
  let store: Store;
  let image: StoredImage;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tsbuild-export-'));
    ({ store, image } = await makeImage(work));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('type=oci writes an OCI layout tarball that skopeo and umoci read', async () => {
    const dest = join(work, 'image.oci.tar');
    await writeOutput(parseOutputSpec(`type=oci,dest=${dest}`, work), store, image, { names: ['hello'] });
    const raw = skopeo('inspect', '--raw', `oci-archive:${dest}`);
    expect(raw).toEqual(image.manifest);
    const config = skopeo('inspect', '--config', `oci-archive:${dest}`);
    expect(config.config.Cmd).toEqual(['/bin/sh']);

    const layout = join(work, 'layout');
    mkdirSync(layout);
    execFileSync('tar', ['-xf', dest, '-C', layout]);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('latest');
    execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, join(work, 'bundle')]);
    expect(readFileSync(join(work, 'bundle/rootfs/etc/greeting'), 'utf8')).toBe('hello\n');
  });

  it('type=docker writes a docker-load archive with RepoTags', async () => {
    const dest = join(work, 'image.docker.tar');
    await writeOutput(parseOutputSpec(`type=docker,dest=${dest}`, work), store, image, { names: ['hello', 'registry.local:5000/team/app:v1'] });
    const inspected = skopeo('inspect', `docker-archive:${dest}`);
    expect(inspected.Layers).toEqual([image.manifest.layers[0]!.digest]);
    const listing = execFileSync('tar', ['-tf', dest], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('manifest.json');
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', dest, 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest[0].RepoTags).toEqual(['hello:latest', 'registry.local:5000/team/app:v1']);
    const repositories = JSON.parse(execFileSync('tar', ['-xOf', dest, 'repositories'], { encoding: 'utf8' }));
    expect(Object.keys(repositories).sort()).toEqual(['hello', 'registry.local:5000/team/app']);
  });

  it('is deterministic: the same image gives byte-identical archives', async () => {
    const a = join(work, 'a.tar');
    const b = join(work, 'b.tar');
    await writeOutput(parseOutputSpec(`type=oci,dest=${a}`, work), store, image, { names: [] });
    await writeOutput(parseOutputSpec(`type=oci,dest=${b}`, work), store, image, { names: [] });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('leaves nothing behind when the export fails midway', async () => {
    const dest = join(work, 'out', 'broken.tar');
    mkdirSync(join(work, 'out'));
    const missing = { ...image, manifest: { ...image.manifest, layers: [{ ...image.manifest.layers[0]!, digest: `sha256:${'0'.repeat(64)}` as const }] } };
    await expect(writeOutput(parseOutputSpec(`type=oci,dest=${dest}`, work), store, missing, { names: [] })).rejects.toThrow();
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(join(work, 'out'))).toEqual([]);
  });

  it('rejects unknown types and missing dest with a usage error', () => {
    expect(() => parseOutputSpec('type=ftp,dest=x', work)).toThrow(UsageError);
    expect(() => parseOutputSpec('type=oci', work)).toThrow(/dest= is missing/);
    expect(() => parseOutputSpec('oops', work)).toThrow(/key=value/);
  });

  it('type=docker without dest= is a load into Docker, as buildx reads it', () => {
    expect(isDockerLoadOutput('type=docker')).toBe(true);
    expect(isDockerLoadOutput('type=docker,dest=image.tar')).toBe(false);
    expect(isDockerLoadOutput('type=oci')).toBe(false);
    expect(() => isDockerLoadOutput('type=docker,name=app:1')).toThrow(/name= is not supported when loading into Docker/);
  });
});
