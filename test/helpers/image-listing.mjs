// Turns an image archive (docker-archive or OCI image layout, tar or directory) into a plain,
// comparable listing of its flattened filesystem and the config fields Dockerfile semantics
// decide. The conformance suite compares tsbuild's images with Docker's this way, so a
// difference is a plain diff. Plain JS so that scripts/conformance-reference.mjs, run by plain
// Node against a real dockerd, uses the same code as the tests.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';

const TYPE = { file: 'file', directory: 'dir', symlink: 'symlink', link: 'hardlink', 'character-device': 'char', 'block-device': 'block', fifo: 'fifo' };

/** Config fields compared between builders (times and digests are not). */
const CONFIG_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell'];

export async function listImage(archive) {
  const dir = statSync(archive).isDirectory() ? archive : unpackOuter(archive);
  try {
    const { config, layerPaths } = readImage(dir);
    const files = new Map();
    for (const layer of layerPaths) await applyLayer(files, layer);
    // The root directory is not compared: whether a layer carries a `./` entry for it depends
    // on how the base was packed (docker import of `tar -C rootfs .` does, BuildKit's differ
    // and tsbuild do not), and every runtime creates / itself.
    files.delete('/');
    const listing = [...files.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, e]) => formatEntry(path, e));
    return { listing, config: pickConfig(config) };
  } finally {
    if (dir !== archive) rmSync(dir, { recursive: true, force: true });
  }
}

function unpackOuter(archive) {
  const dir = mkdtempSync(join(tmpdir(), 'image-listing-'));
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  return dir;
}

function readImage(dir) {
  if (existsSync(join(dir, 'manifest.json'))) {
    const [entry] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const config = JSON.parse(readFileSync(join(dir, entry.Config), 'utf8'));
    return { config, layerPaths: entry.Layers.map((l) => join(dir, l)) };
  }
  const blob = (digest) => join(dir, 'blobs', ...digest.split(':'));
  let manifest = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  while (manifest.manifests) manifest = JSON.parse(readFileSync(blob(manifest.manifests[0].digest), 'utf8'));
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8'));
  return { config, layerPaths: manifest.layers.map((l) => blob(l.digest)) };
}

function normalise(name) {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return '/' + parts.join('/');
}

async function readLayerEntries(path) {
  const head = Buffer.alloc(2);
  const fd = readFileSync(path).subarray(0, 2);
  fd.copy(head);
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  const entries = [];
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    const hash = createHash('sha256');
    let size = 0;
    stream.on('data', (chunk) => {
      hash.update(chunk);
      size += chunk.length;
    });
    stream.on('end', () => {
      entries.push({ header, size, sha256: hash.digest('hex') });
      next();
    });
  });
  const source = createReadStream(path);
  await (gzipped ? pipeline(source, createGunzip(), extract) : pipeline(source, extract));
  return entries;
}

async function applyLayer(files, layerPath) {
  const entries = await readLayerEntries(layerPath);
  const removeUnder = (dir, includeSelf) => {
    for (const key of [...files.keys()]) {
      if ((includeSelf && key === dir) || key.startsWith(dir === '/' ? '/' : dir + '/')) files.delete(key);
    }
  };
  // Whiteouts hide what lower layers had; apply them before this layer's own entries.
  for (const { header } of entries) {
    const path = normalise(header.name);
    const base = path.slice(path.lastIndexOf('/') + 1);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (base === '.wh..wh..opq') removeUnder(parent, false);
    else if (base.startsWith('.wh.')) removeUnder(join(parent, base.slice(4)), true);
  }
  for (const { header, size, sha256 } of entries) {
    const path = normalise(header.name);
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (base.startsWith('.wh.')) continue;
    const type = TYPE[header.type] ?? header.type;
    if (type !== 'dir') removeUnder(path, false);
    files.set(path, {
      type,
      mode: (header.mode ?? 0) & 0o7777,
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      size,
      sha256,
      target: header.linkname ? (type === 'hardlink' ? normalise(header.linkname) : header.linkname) : undefined,
    });
  }
}

function formatEntry(path, e) {
  const mode = e.mode.toString(8).padStart(4, '0');
  const common = `${path} ${e.type} ${mode} ${e.uid}:${e.gid}`;
  if (e.type === 'file') return `${common} ${e.size} sha256:${e.sha256}`;
  if (e.type === 'symlink' || e.type === 'hardlink') return `${common} -> ${e.target}`;
  return common;
}

function pickConfig(image) {
  const out = {};
  for (const field of CONFIG_FIELDS) {
    const value = image.config?.[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) out[field] = sortKeys(value);
  }
  return out;
}

/** Objects with their keys sorted, at any depth: Docker writes Go struct order (Healthcheck's
 * Test, Interval, …), tsbuild writes canonical JSON; the order carries no meaning. */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
}
