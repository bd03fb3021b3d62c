// The store commands through main(), with captured streams: what a user types and sees.

import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/run-cli.js';
import { busyboxImageLayout, busyboxImageTar } from '../helpers/busybox-image.js';
import { flipByte, tempDir } from './store-helpers.js';
import { Store } from '../../src/store/index.js';

function run(root: string, ...argv: string[]): Promise<CliRun> {
  return runCli(['--root', root, ...argv]);
}

describe('store commands', () => {
  let root: string;
  beforeAll(async () => {
    root = await tempDir();
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('load, images, tag, inspect, du, rmi, prune, store verify', async () => {
    const loaded = await run(root, 'load', await busyboxImageTar());
    expect(loaded).toMatchObject({ status: 0 });
    expect(loaded.stdout).toMatch(/^Loaded image: busybox:latest \(sha256:[a-f0-9]{64}\)$/m);

    expect((await run(root, 'load', await busyboxImageLayout(), '-t', 'localhost:5000/team/base:1')).stdout).toContain('localhost:5000/team/base:1');
    expect((await run(root, 'tag', 'busybox', 'mine:v2')).status).toBe(0);

    const table = await run(root, 'images');
    expect(table.stdout.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+CREATED\s+PLATFORM\s+SIZE$/);
    expect(table.stdout).toMatch(/^busybox\s+latest\s+[a-f0-9]{12}\s+1970-01-01T00:00:00Z\s+linux\/\w+/m);
    const json = JSON.parse((await run(root, 'images', '--format', 'json')).stdout) as Array<{ name: string; digest: string }>;
    expect(json.map((i) => i.name).sort()).toEqual(['busybox:latest', 'localhost:5000/team/base:1', 'mine:v2']);
    expect(new Set(json.map((i) => i.digest)).size).toBe(1);

    const inspected = JSON.parse((await run(root, 'inspect', 'mine:v2', '--format', 'json')).stdout);
    expect(inspected.reference).toBe('docker.io/library/mine:v2');
    expect(inspected.config.config.Cmd).toEqual(['sh']);
    expect(inspected.manifest.layers).toHaveLength(1);
    const byPrefix = JSON.parse((await run(root, 'inspect', json[0]!.digest.slice(7, 19))).stdout);
    expect(byPrefix.descriptor.digest).toBe(json[0]!.digest);

    const du = JSON.parse((await run(root, 'du', '--format', 'json')).stdout);
    expect(du.images).toHaveLength(1);
    expect(du.images[0].references).toEqual(['busybox:latest', 'localhost:5000/team/base:1', 'mine:v2']);
    expect(du.total).toBe(du.blobs.size + du.snapshots.size);

    expect((await run(root, 'rmi', 'busybox', 'mine:v2')).stdout).toBe('Untagged: busybox:latest\nUntagged: mine:v2\n');
    const missing = await run(root, 'rmi', 'busybox');
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('no image named busybox');
    expect((await run(root, 'rmi', json[0]!.digest)).stdout).toBe('Untagged: localhost:5000/team/base:1\n');
    const pruned = await run(root, 'prune');
    expect(pruned.stdout).toMatch(/^Removed 3 blobs, 0 snapshots, 0 cache records/);
    expect((await run(root, 'images', '--format', 'json')).stdout.trim()).toBe('[]');

    const verified = await run(root, 'store', 'verify');
    expect(verified).toMatchObject({ status: 0 });
    expect(verified.stdout).toContain('store is clean');
  });

  it('store verify names a corrupted blob and exits 3', async () => {
    const own = await tempDir();
    await run(own, 'load', await busyboxImageLayout());
    const store = await Store.open(own);
    const image = await store.getImage('busybox');
    await store.close();
    await flipByte(store.blobPath(image!.manifest.config.digest), 10);
    const result = await run(own, 'store', 'verify');
    expect(result.status).toBe(3);
    expect(result.stdout).toContain(`problem: ${image!.manifest.config.digest}: blob ${image!.manifest.config.digest} is corrupt`);
    await rm(own, { recursive: true, force: true });
  });

  it('rejects bad arguments with usage errors', async () => {
    expect((await run(root, 'prune', '--keep-storage', '10 parsecs')).stderr).toContain('invalid size "10 parsecs"');
    expect((await run(root, 'prune', '--filter', 'label=x')).status).toBe(2);
    expect((await run(root, 'tag', 'busybox', 'Bad:Name')).stderr).toContain('repository name must be lowercase');
    expect((await run(root, 'load', '/nonexistent.tar')).status).toBe(2);
    const notADir = await run('/etc/passwd', 'images');
    expect(notADir.status).toBe(3);
    expect(notADir.stderr).toContain('cannot open the store at /etc/passwd');
  });
});
