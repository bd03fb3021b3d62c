#!/usr/bin/env node
// Benchmark of the registry client (issue 8), against Debian's docker-registry on loopback,
// with references measured in the same run:
//
//   push / pull   an image of --layers layers of random bytes, --size-mb in all, declared
//                 gzip (as pulled base images are), so the numbers measure transfer,
//                 digesting and the store's fsync'd writes, not compression. Reference:
//                 `curl` downloading the same blobs from the same registry (into files on
//                 the same file system), and for push also `curl` uploading them (POST +
//                 monolithic PUT), since the registry hashes and stores what it receives.
//   cache hit     a recipe (four CPU-bound RUN steps with small outputs, one RUN leaving 8 MB,
//                 a COPY, an ENV) built in one store, its cache exported to the registry
//                 (mode=max); a second store holding only the base image imports it and builds
//                 the same recipe: its time (import with every layer downloaded + build, every
//                 step a hit) against the cold build.
//
//   npm run build && node bench/registry-throughput.js [--size-mb 500] [--layers 5] [--runs 3] [--json]
// bench-quick: --size-mb 50 --runs 1

import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { median, timed } from './lib/stats.js';

const REPO = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '500' },
    layers: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
for (const needed of ['dist/index.js', 'native/build/tsbuild-sandbox']) {
  if (!existsSync(join(REPO, needed))) {
    console.error(`bench/registry-throughput: ${needed} is missing; run \`npm run build\` first.`);
    process.exit(2);
  }
}
const { Store, build, exportCache, importCache, pullImage, pushImage } = await import(join(REPO, 'dist/index.js'));

const SIZE = Number(values['size-mb']) << 20;
const LAYERS = Number(values.layers);
const RUNS = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-registry-'));
const registry = await startRegistry(join(work, 'registry'));
try {
  const transfer = await measureTransfers();
  const cache = await measureCacheHit();
  const summary = { ...transfer, ...cache };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(`registry-throughput: ${(SIZE / 2 ** 20).toFixed(0)} MiB in ${LAYERS} layers over loopback, median of ${RUNS} runs`);
    console.log(`  curl download (reference): ${summary.curlMs.toFixed(0)} ms  ${summary.curlMBps} MB/s`);
    console.log(`  curl upload:               ${summary.curlUploadMs.toFixed(0)} ms  ${summary.curlUploadMBps} MB/s`);
    console.log(`  tsbuild push:              ${summary.pushMs.toFixed(0)} ms  ${summary.pushMBps} MB/s  ratio ${summary.pushRatio} (to curl upload: ${summary.pushToUploadRatio})`);
    console.log(`  tsbuild pull:              ${summary.pullMs.toFixed(0)} ms  ${summary.pullMBps} MB/s  ratio ${summary.pullRatio}`);
    console.log('  ratio = curl time / tsbuild time (1.0: as fast as curl)');
    console.log(`  cache hit on a second store: ${summary.cacheHitMs.toFixed(0)} ms (import + build, ${summary.cacheHitSteps} steps cached, 0 run)`);
    console.log(`    against the cold build:    ${summary.coldBuildMs.toFixed(0)} ms  speed-up ${summary.cacheHitSpeedup}×`);
  }
} finally {
  registry.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

async function measureTransfers() {
  const source = await Store.open(join(work, 'source'));
  const layers = await makeImage(source);
  const results = { push: [], pull: [], curl: [], curlUpload: [] };
  for (let run = 0; run < RUNS; run++) {
    const remote = `${registry.host}/bench/run${run}:1`;
    results.push.push(await timed(() => pushImage(source, 'local/bench:1', remote, {})));
    const target = join(work, `target${run}`);
    const store = await Store.open(target);
    results.pull.push(await timed(() => pullImage(store, remote, {})));
    await store.close();
    rmSync(target, { recursive: true, force: true });
    results.curl.push(await timed(() => curlDownloads(`bench/run${run}`, layers, join(work, 'curl'))));
    results.curlUpload.push(await timed(() => curlUploads(`bench/upload${run}`, layers, source)));
  }
  await source.close();
  const mbps = (ms) => Math.round(SIZE / 1e6 / (ms / 1000));
  const [push, pull, curl, curlUpload] = [median(results.push), median(results.pull), median(results.curl), median(results.curlUpload)];
  return {
    bytes: SIZE,
    layers: LAYERS,
    runs: RUNS,
    pushMs: push,
    pullMs: pull,
    curlMs: curl,
    curlUploadMs: curlUpload,
    pushMBps: mbps(push),
    pullMBps: mbps(pull),
    curlMBps: mbps(curl),
    curlUploadMBps: mbps(curlUpload),
    pushRatio: Number((curl / push).toFixed(3)),
    pullRatio: Number((curl / pull).toFixed(3)),
    pushToUploadRatio: Number((curlUpload / push).toFixed(3)),
  };
}

/** Two CI runners: the first builds cold and exports its cache, the second imports and builds. */
async function measureCacheHit() {
  const base = await baseStore();
  const context = join(work, 'ctx');
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, 'app.txt'), 'the application\n');
  // CPU-bound steps with small outputs, as compiling is, and one that leaves 8 MB of data.
  const spin = (i) => `RUN i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done; echo ${i} $i > /step${i}`;
  const steps = [...Array.from({ length: 4 }, (_, i) => spin(i)), 'RUN head -c 8000000 /dev/urandom > /data'];
  writeFileSync(join(context, 'Dockerfile'), `FROM busybox\n${steps.join('\n')}\nCOPY app.txt /app.txt\nENV MODE=ci\n`);
  const quiet = () => undefined;

  const runner1 = await base('runner1');
  const coldBuildMs = await timed(() => build({ contextDir: context, storeRoot: runner1 }, quiet));
  const store1 = await Store.open(runner1);
  const entries = (await store1.cache.list()).map(({ key, record }) => ({ key, record, inOutput: true }));
  const ref = `${registry.host}/bench/cache:1`;
  await exportCache(store1, entries, { type: 'registry', ref, mode: 'max' }, {});
  await store1.close();

  const runner2 = await base('runner2');
  let result;
  const cacheHitMs = await timed(async () => {
    const store2 = await Store.open(runner2);
    (await importCache(store2, { type: 'registry', ref }, { eager: true })).close();
    await store2.close();
    result = await build({ contextDir: context, storeRoot: runner2 }, quiet);
  });
  if (result.stepsRun !== 0) throw new Error(`the second store ran ${result.stepsRun} steps; expected every step cached`);
  return { coldBuildMs, cacheHitMs, cacheHitSteps: result.stepsCached, cacheHitSpeedup: Number((coldBuildMs / cacheHitMs).toFixed(1)) };
}

/** A factory of stores holding only `busybox:latest`, built from Debian's busybox-static. */
async function baseStore() {
  const rootfs = join(REPO, '.cache/fixtures/busybox-rootfs');
  if (!existsSync(join(rootfs, 'bin/busybox'))) execFileSync('bash', [join(REPO, 'fixtures/base/make-busybox-rootfs.sh'), rootfs]);
  writeFileSync(join(work, 'base.Dockerfile'), 'FROM scratch\nCOPY / /\nCMD ["sh"]\n');
  return (name) => {
    const root = join(work, name);
    return build({ contextDir: rootfs, file: join(work, 'base.Dockerfile'), storeRoot: root, tags: ['busybox:latest'] }, () => undefined).then(() => root);
  };
}

/** Random-looking bytes fast: AES-CTR over zeros, 1 MiB at a time. */
function noise(size, seed) {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16));
  const zeros = Buffer.alloc(1 << 20);
  let left = size;
  return Readable.from((function* () {
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      left -= n;
      yield cipher.update(zeros.subarray(0, n));
    }
  })());
}

async function makeImage(store) {
  const layers = [];
  for (let i = 0; i < LAYERS; i++) {
    const blob = await store.ingest(noise(Math.floor(SIZE / LAYERS), i + 1));
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob });
  }
  const config = await store.putJson(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } },
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await store.putJson(
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers },
    'application/vnd.oci.image.manifest.v1+json',
  );
  await store.setTag('local/bench:1', manifest);
  return layers;
}

function curl(args) {
  return new Promise((done, fail) => {
    const child = spawn('curl', ['-sSf', ...args], { stdio: 'inherit' });
    child.on('exit', (status) => (status === 0 ? done() : fail(new Error(`curl exited with ${status}`))));
  });
}

/** curl fetches every layer blob, in parallel as a pull does, into files. */
async function curlDownloads(repository, layers, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await Promise.all(layers.map((layer, i) => curl(['-o', join(dir, String(i)), `http://${registry.host}/v2/${repository}/blobs/${layer.digest}`])));
}

/** curl uploads every layer blob the way a monolithic push does: POST, then PUT the bytes. */
async function curlUploads(repository, layers, store) {
  await Promise.all(
    layers.map(async (layer) => {
      const location = await new Promise((done, fail) =>
        request(`http://${registry.host}/v2/${repository}/blobs/uploads/`, { method: 'POST' }, (res) => {
          res.resume();
          done(res.headers.location);
        }).on('error', fail).end(),
      );
      const url = new URL(location, `http://${registry.host}`);
      url.searchParams.set('digest', layer.digest);
      await curl(['-o', '/dev/null', '-X', 'PUT', '-H', 'content-type: application/octet-stream', '-T', store.blobPath(layer.digest), url.toString()]);
    }),
  );
}

async function startRegistry(dir) {
  const port = await new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
  const host = `127.0.0.1:${port}`;
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.json');
  const settings = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') } },
    http: { addr: host, secret: randomBytes(8).toString('hex') },
  };
  writeFileSync(config, JSON.stringify(settings));
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((done) => request(`http://${host}/v2/`, (res) => done(res.resume() && true)).on('error', () => done(false)).end());
    if (up) return { host, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('docker-registry did not start');
}
