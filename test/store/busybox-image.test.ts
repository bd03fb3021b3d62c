// The busybox base image fixture, and the store root itself, checked by real OCI tools.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store, hostPlatform, load } from '../../src/store/index.js';
import { busyboxImageLayout, writeBusyboxLayout } from '../helpers/busybox-image.js';
import { tempDir } from './store-helpers.js';

interface SkopeoInspect {
  Digest: string;
  Architecture: string;
  Os: string;
  Env: string[];
  Layers: string[];
}

function skopeoInspect(target: string): SkopeoInspect {
  return JSON.parse(execFileSync('skopeo', ['inspect', target], { encoding: 'utf8' })) as SkopeoInspect;
}

describe('busybox image fixture', () => {
  it('is an OCI layout that skopeo reads and umoci unpacks into a working rootfs', async () => {
    const layout = await busyboxImageLayout();
    const info = skopeoInspect(`oci:${layout}`);
    expect(info).toMatchObject({ Architecture: hostPlatform().architecture, Os: 'linux' });
    expect(info.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    expect(info.Layers).toHaveLength(1);
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${layout}`], { encoding: 'utf8' }));
    expect(config.config.Cmd).toEqual(['sh']);

    const bundle = await tempDir('tsbuild-umoci-');
    try {
      execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, join(bundle, 'b')], { stdio: 'pipe' });
      expect(existsSync(join(bundle, 'b/rootfs/bin/busybox'))).toBe(true);
      expect(execFileSync(join(bundle, 'b/rootfs/bin/busybox'), ['echo', 'ok'], { encoding: 'utf8' })).toBe('ok\n');
    } finally {
      await rm(bundle, { recursive: true, force: true });
    }
  });

  it('is built deterministically: the same digest every time', async () => {
    const again = join(await tempDir('tsbuild-busybox-again-'), 'layout');
    try {
      await writeBusyboxLayout(again);
      expect(skopeoInspect(`oci:${again}`).Digest).toBe(skopeoInspect(`oci:${await busyboxImageLayout()}`).Digest);
    } finally {
      await rm(dirname(again), { recursive: true, force: true });
    }
  });

  it('loads into a store whose root skopeo reads as an OCI layout, by normalised name', async () => {
    const store = await Store.open(await tempDir());
    try {
      await load(store, await busyboxImageLayout());
      const info = skopeoInspect(`oci:${store.root}:docker.io/library/busybox:latest`);
      expect(info.Digest).toBe((await store.resolveTag('busybox'))!.digest);
    } finally {
      await store.close();
      await rm(store.root, { recursive: true, force: true });
    }
  });
});
