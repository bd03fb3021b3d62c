// `tsbuild build` with a registry, through main() as a CI job runs it: two stores play two CI
// runners with empty disks. Runner 1 pulls its base (FROM 127.0.0.1:PORT/…) on its own,
// builds, and exports its cache; runner 2 builds the same recipe with --cache-from, runs no
// step, makes the same image and downloads only what that image needs. Pushing with
// --output type=registry is checked with skopeo; offline and failing pulls say so once.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { loadImage, pushImage, Store, verifyStore } from '../../src/index.js';
import { isLocalRecordKey } from '../../src/store/index.js';
import type { Digest } from '../../src/lib/digest.js';
import { BUSYBOX_REFERENCE, busyboxImageLayout } from '../helpers/busybox-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { writeTree } from '../helpers/testdir.js';

let registry: TestRegistry;
let work: string;
let context: string;
let base: string;

async function tsbuild(...argv: string[]) {
  const result = await runCli(argv, { cwd: work, env: { DOCKER_CONFIG: join(work, 'docker') } });
  const events = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as BuildEvent);
  return { ...result, events };
}

/** A build on a runner's own store, with JSON progress. */
function buildOn(runner: string, ...flags: string[]) {
  return tsbuild('--root', join(work, runner), 'build', '--progress', 'json', ...flags, context);
}

const ofType = <T extends BuildEvent['type']>(events: BuildEvent[], type: T) => events.filter((e): e is Extract<BuildEvent, { type: T }> => e.type === type);
/** Blobs downloaded: finished `pull:<digest>` transfers. */
const pulledBlobs = (events: BuildEvent[]) => new Set(ofType(events, 'transfer').filter((e) => e.id.startsWith('pull:') && e.done).map((e) => e.id));

/** The layer blobs a runner's build steps recorded (not the compressed forms a push remembers). */
async function recordLayers(runner: string): Promise<Digest[]> {
  const store = await Store.open(join(work, runner));
  try {
    const steps = (await store.cache.list()).filter((entry) => !isLocalRecordKey(entry.key));
    return steps.flatMap((entry) => (entry.record.layer ? [entry.record.layer.descriptor.digest] : []));
  } finally {
    await store.close();
  }
}

/** The keys of the records a `--cache-to type=local` export holds. */
async function localCacheKeys(dir: string): Promise<string[]> {
  const blob = async (digest: string) => JSON.parse(await readFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8'));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  const manifest = await blob(index.manifests[0].digest);
  const config = (await blob(manifest.config.digest)) as { records: Array<{ key: string }> };
  return config.records.map((r) => r.key);
}

/** The store's own bookkeeping records on a runner. */
async function localRecordKeys(runner: string): Promise<string[]> {
  const store = await Store.open(join(work, runner));
  try {
    return (await store.cache.list()).map((entry) => entry.key).filter(isLocalRecordKey);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tsbuild-build-remote-'));
  registry = await startRegistry();
  base = `${registry.host}/ci/busybox:latest`;
  const seed = await Store.open(join(work, 'seed'));
  await loadImage(seed, await busyboxImageLayout());
  await seed.setTag(base, (await seed.resolveTag(BUSYBOX_REFERENCE))!);
  await pushImage(seed, base, base, { retryDelayMs: 20 });
  await seed.close();
  context = join(work, 'ctx');
  // `tools` is a stage the image does not contain: a cache hit on it needs none of its layers.
  writeTree(context, {
    Dockerfile: [
      `FROM ${base} AS tools`,
      'RUN echo tool > /tool',
      `FROM ${base}`,
      'RUN --mount=type=bind,from=tools,target=/t cat /t/tool > /copied',
      'COPY a.txt /a.txt',
      'ENV MODE=ci',
      'RUN cat /copied /a.txt > /both',
      '',
    ].join('\n'),
    'a.txt': 'context file\n',
  });
});

afterAll(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('tsbuild build with a registry', () => {
  it('two CI runners share one cache: the second runs no step, makes the same image and downloads only its layers', async () => {
    const cacheRef = `${registry.host}/ci/app:buildcache`;
    const localCache = join(work, 'shared-cache');
    const first = await buildOn('runner1', '--cache-to', `type=registry,ref=${cacheRef},mode=max`, '--cache-to', `type=local,dest=${localCache},mode=max`);
    expect(first.status, first.stderr).toBe(0);
    expect(pulledBlobs(first.events).size).toBe(2); // the base's config and its one layer, pulled because FROM named it
    expect(ofType(first.events, 'step.done').length).toBe(5);
    const image = ofType(first.events, 'build.done')[0]!.image!.digest;

    // A branch's first run: its own cache does not exist yet, which is a warning; main's is used.
    const branchCache = `${registry.host}/ci/app:cache-new-branch`;
    const second = await buildOn('runner2', '-t', 'app:ci', '--cache-from', `type=registry,ref=${branchCache}`, '--cache-from', `type=registry,ref=${cacheRef}`);
    expect(second.status, second.stderr).toBe(0);
    expect(ofType(second.events, 'warning').map((e) => e.message)).toEqual([expect.stringContaining(`--cache-from ${branchCache} is not used: `)]);
    expect(ofType(second.events, 'step.done')).toEqual([]);
    expect(ofType(second.events, 'step.cached').length).toBe(5);
    expect(ofType(second.events, 'build.done')[0]!.image!.digest).toBe(image);

    const store = await Store.open(join(work, 'runner2'));
    try {
      const built = (await store.getImage('app:ci'))!;
      // Base config + base layer + the image's own three layers; the tools stage's layer stays in the registry.
      expect(pulledBlobs(second.events).size).toBe(1 + built.manifest.layers.length);
      const toolsLayer = (await recordLayers('runner1')).filter((digest) => !built.manifest.layers.some((l) => l.digest === digest));
      expect(toolsLayer).toHaveLength(1);
      expect(await store.hasBlob(toolsLayer[0]!)).toBe(false);
      for (const layer of built.manifest.layers) expect(await store.hasBlob(layer.digest)).toBe(true);
      expect((await verifyStore(store)).problems).toEqual([]);
    } finally {
      await store.close();
    }

    // The store's own records (the layer each COPY last made, for linking) stay home.
    const exportedKeys = await localCacheKeys(localCache);
    expect(exportedKeys.length).toBeGreaterThan(0);
    expect(exportedKeys.filter(isLocalRecordKey)).toEqual([]);
    expect(await localRecordKeys('runner1')).toContainEqual(expect.stringMatching(/^tsbuild\.copy-lineage:/));

    const third = await buildOn('runner3', '--cache-from', `type=local,src=${localCache}`);
    expect(third.status, third.stderr).toBe(0);
    expect(ofType(third.events, 'step.done')).toEqual([]);
    expect(ofType(third.events, 'build.done')[0]!.image!.digest).toBe(image);
  });

  it('--output type=registry and type=image,push=true push the image; skopeo reads it back', async () => {
    const pushed = `${registry.host}/ci/app:1`;
    const alsoPushed = `${registry.host}/ci/app:2`;
    const metadata = join(work, 'metadata.json');
    const result = await buildOn('runner1', '--metadata-file', metadata, '--output', `type=registry,name=${pushed}`, '--output', `type=image,name=${alsoPushed},push=true`);
    expect(result.status, result.stderr).toBe(0);
    expect(ofType(result.events, 'transfer').some((e) => e.label.startsWith('pushing'))).toBe(true);
    const configDigest = JSON.parse(await readFile(metadata, 'utf8'))['containerimage.config.digest'];
    for (const name of [pushed, alsoPushed]) {
      const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' }));
      expect(manifest.config.digest).toBe(configDigest); // the config travels unchanged
      expect(manifest.layers).toHaveLength(4);
    }
    const store = await Store.open(join(work, 'runner1'));
    try {
      expect(await store.resolveTag(pushed)).toBeDefined(); // an image output also names the image in the store
    } finally {
      await store.close();
    }
  });

  it('--pull pulls every base again (a tag may have moved); without it the stored base is used', async () => {
    const moving = `${registry.host}/ci/moving:1`;
    const seed = join(work, 'seed');
    const pushTo = async (dockerfile: string) => {
      const dir = join(work, `moving-${dockerfile.length}`);
      writeTree(dir, { Dockerfile: dockerfile });
      expect((await tsbuild('--root', seed, 'build', '-q', '-t', moving, '--push', dir)).status).toBe(0);
    };
    await pushTo(`FROM ${BUSYBOX_REFERENCE}\n`);
    const app = join(work, 'on-moving');
    writeTree(app, { Dockerfile: `FROM ${moving}\nENV APP=1\n` });
    const build = (...flags: string[]) => tsbuild('--root', join(work, 'puller'), 'build', '-q', ...flags, app);
    const before = await build();
    expect(before.status, before.stderr).toBe(0);

    await pushTo(`FROM ${BUSYBOX_REFERENCE}\nENV MOVED=1\n`);
    expect((await build()).stdout).toBe(before.stdout);
    const pulled = await build('--pull');
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(pulled.stdout).not.toBe(before.stdout);
    expect((await build('--pull=false')).stdout).toBe(pulled.stdout); // the store now holds the moved base
  });

  it('--pull=false builds offline: a missing base is an error at its FROM line, printed once, and nothing is fetched', async () => {
    const result = await buildOn('offline', '--pull=false');
    expect(result.status).toBe(1);
    expect(result.stderr.split('\n').filter(Boolean).every((line) => line.startsWith('{'))).toBe(true); // json mode: only events
    expect(pulledBlobs(result.events).size).toBe(0);
    const failure = ofType(result.events, 'build.error')[0]!;
    expect(failure).toMatchObject({ code: 'E_BASE_IMAGE_MISSING', location: { line: 1 } });
    expect(failure.message).toBe(`base image "${base}" is not in the store`);
    expect(failure.hint).toMatch(/^load it first: tsbuild load/);
  });

  it('a base the registry does not have: the pull failure is the reason, printed once', async () => {
    const missing = `${registry.host}/ci/nosuch:1`;
    const broken = join(work, 'broken');
    writeTree(broken, { Dockerfile: `FROM ${missing}\nRUN true\n` });
    const result = await tsbuild('--root', join(work, 'runner4'), 'build', '--progress', 'plain', broken);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`ERROR: base image "${missing}" is not in the store, and pulling it failed: `);
    expect(result.stderr).toContain('Dockerfile:1:1\n');
    expect(result.stderr.match(/^(ERROR|error):/gim)).toHaveLength(1);

    const quiet = await tsbuild('--root', join(work, 'runner4'), 'build', '-q', broken);
    expect(quiet.status).toBe(1);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr.match(/^(ERROR|error):/gim)).toEqual(['error:']); // -q: main() prints it, once
  });
});
