#!/usr/bin/env node
// Benchmark: push and pull of a large image over loopback against Debian's docker-registry,
// as ratios to `curl` downloading the same blobs from the same registry in the same run
// (issue 8), and, for push, also to `curl` uploading them (POST + monolithic PUT), since
// the registry hashes and stores what it receives and uploads are slower. The image has --layers layers of random bytes, --size-mb in all, declared gzip
// (as pulled base images are), so the numbers measure transfer, digesting and the store's
// fsync'd writes, not compression. curl writes into a file on the same file system as the
// store, so both sides pay for the disk.
//
//   npx tsc -p . && node bench/registry-throughput.js [--size-mb 500] [--layers 5] [--runs 2] [--json]

import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '500' },
    layers: { type: 'string', default: '5' },
    runs: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const dist = join(REPO, 'dist/registry/index.js');
if (!existsSync(dist)) {
  console.error('bench/registry-throughput: dist/registry/index.js is missing; run `npx tsc -p .` first.');
  process.exit(2);
}
const { pullImage, pushImage } = await import(dist);
const { Store } = await import(join(REPO, 'dist/store/index.js'));

const SIZE = Number(values['size-mb']) << 20;
const LAYERS = Number(values.layers);
const RUNS = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-registry-'));
const registry = await startRegistry(join(work, 'registry'));
try {
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
    results.curl.push(await timed(() => curlAll(`bench/run${run}`, layers, join(work, 'curl'))));
    results.curlUpload.push(await timed(() => curlUploadAll(`bench/upload${run}`, layers, source)));
  }
  await source.close();
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const mbps = (ms) => Math.round(SIZE / 1e6 / (ms / 1000));
  const [push, pull, curl, curlUpload] = [median(results.push), median(results.pull), median(results.curl), median(results.curlUpload)];
  const summary = {
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
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(`registry-throughput: ${(SIZE / 2 ** 20).toFixed(0)} MiB in ${LAYERS} layers over loopback, median of ${RUNS} runs`);
    console.log(`  curl download (reference): ${curl.toFixed(0)} ms  ${summary.curlMBps} MB/s`);
    console.log(`  curl upload:               ${curlUpload.toFixed(0)} ms  ${summary.curlUploadMBps} MB/s`);
    console.log(`  tsbuild push:              ${push.toFixed(0)} ms  ${summary.pushMBps} MB/s  ratio ${summary.pushRatio} (to curl upload: ${summary.pushToUploadRatio})`);
    console.log(`  tsbuild pull:              ${pull.toFixed(0)} ms  ${summary.pullMBps} MB/s  ratio ${summary.pullRatio}`);
    console.log('  ratio = curl time / tsbuild time (1.0: as fast as curl)');
  }
} finally {
  registry.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

async function timed(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
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

/** curl fetches every layer blob, in parallel as a pull does, into files. */
async function curlAll(repository, layers, dir) {
  rmSync(dir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', dir]);
  await Promise.all(
    layers.map(
      (layer, i) =>
        new Promise((done, fail) => {
          const child = spawn('curl', ['-sSf', '-o', join(dir, String(i)), `http://${registry.host}/v2/${repository}/blobs/${layer.digest}`], { stdio: 'inherit' });
          child.on('exit', (status) => (status === 0 ? done() : fail(new Error(`curl exited with ${status}`))));
        }),
    ),
  );
}

/** curl uploads every layer blob the way a monolithic push does: POST, then PUT the bytes. */
async function curlUploadAll(repository, layers, store) {
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
      await new Promise((done, fail) => {
        const child = spawn('curl', ['-sSf', '-o', '/dev/null', '-X', 'PUT', '-H', 'content-type: application/octet-stream', '-T', store.blobPath(layer.digest), url.toString()], { stdio: 'inherit' });
        child.on('exit', (status) => (status === 0 ? done() : fail(new Error(`curl exited with ${status}`))));
      });
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
  spawnSync('mkdir', ['-p', dir]);
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
