// A store client run in a child process by the reliability tests, to be SIGKILLed at random
// moments or run beside another. Usage: node victim.mjs COMPILED_SRC ROOT MODE [ARG]
//   work        loop: make a layer, ingest it, unpack its snapshot, write config and manifest,
//               tag it, record it in the cache (prints the iteration after each)
//   prune       loop: prune, with --all every other time
//   load FILE N load FILE N times, tagging it victim/load:PID-I, then exit
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';

const [compiled, root, mode, arg, count] = process.argv.slice(2);
const { Store, load, prune } = await import(join(compiled, 'store/index.js'));
const { writeLayer, MediaType } = await import(join(compiled, 'layer/index.js'));
const { sha256 } = await import(join(compiled, 'lib/digest.js'));

const store = await Store.open(root);

async function makeImage(i) {
  const source = await mkdtemp(join(tmpdir(), 'tsbuild-victim-'));
  try {
    await mkdir(join(source, 'data'));
    for (let f = 0; f < 8; f++) await writeFile(join(source, 'data', `f${f}`), randomBytes(4096 + Math.floor(Math.random() * 200_000)));
    const pipe = new PassThrough();
    const ingesting = store.ingest(pipe);
    const written = await writeLayer(source, pipe, { sourceDateEpoch: 0, kind: 'directory' });
    const blob = await ingesting;
    const layer = { descriptor: { mediaType: MediaType.ociLayer, digest: blob.digest, size: blob.size }, diffId: written.diffId };
    await store.ensureSnapshot(layer);
    const config = await store.putJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] } }, MediaType.ociConfig);
    const manifest = await store.putJson({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer.descriptor] }, MediaType.ociManifest);
    await store.setTag(`victim/work:${process.pid}-${i}`, manifest);
    await store.putCacheRecord(sha256(`victim ${process.pid} ${i}`), { layer, createdAt: new Date().toISOString() });
  } finally {
    await rm(source, { recursive: true, force: true });
  }
}

if (mode === 'work') {
  for (let i = 0; ; i++) {
    await makeImage(i);
    process.stdout.write(`${i}\n`);
  }
} else if (mode === 'prune') {
  for (let i = 0; ; i++) {
    await prune(store, { all: i % 2 === 0 });
    process.stdout.write(`${i}\n`);
  }
} else if (mode === 'load') {
  for (let i = 0; i < Number(count); i++) {
    await load(store, arg, { tag: `victim/load:${process.pid}-${i}` });
  }
  await store.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
