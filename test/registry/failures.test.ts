// What goes wrong on the wire: a registry killed in the middle of a push, a proxy that
// corrupts a blob or a manifest, 503s and connections dropped mid-body. Each ends in a
// clean success through retries or a clear error, and never in a half-written store.

import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { sha256 } from '../../src/lib/digest.js';
import { MediaType, type ImageConfig, type Manifest } from '../../src/layer/oci.js';
import { zstdAvailable } from '../../src/layer/compress.js';
import { pullImage, pushImage } from '../../src/registry/index.js';
import { Store, load } from '../../src/store/index.js';
import { BUSYBOX_REFERENCE, busyboxImageLayout } from '../helpers/busybox-image.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const run = promisify(execFile);
let scratch: string;
let source: Store;
let bigLayer: string;

/** An image with one 6 MiB incompressible layer, already "gzip" so the push sends it as is. */
async function makeBigImage(store: Store): Promise<void> {
  const bytes = randomBytes(6 << 20);
  const layer = await store.ingest(Readable.from([bytes]));
  bigLayer = layer.digest;
  const config = await store.putJson(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('not a real tar')] } } satisfies ImageConfig,
    MediaType.ociConfig,
  );
  const manifest = await store.putJson(
    { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }] } satisfies Manifest,
    MediaType.ociManifest,
  );
  await store.setTag('local/big:1', manifest);
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tsbuild-failure-test-'));
  source = await Store.open(join(scratch, 'source'));
  await load(source, await busyboxImageLayout());
  await makeBigImage(source);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('registry killed mid-push', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry?.stop());

  it('retries the upload once the registry is back', async () => {
    let restarted: Promise<void> | undefined;
    const ref = `${registry.host}/crash/big:1`;
    const pushing = pushImage(source, 'local/big:1', ref, {
      chunkSize: 256 << 10,
      retryDelayMs: 100,
      retries: 6,
      onEvent(event) {
        if (!restarted && event.type === 'transfer' && event.id === `push:${bigLayer}` && event.current > 0) {
          restarted = registry.kill().then(() => new Promise((r) => setTimeout(r, 300))).then(() => registry.start());
        }
      },
    });
    const pushed = await pushing.finally(() => restarted);
    expect(restarted).toBeDefined();
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
    expect(JSON.parse(stdout).Digest).toBe(pushed.descriptor.digest);
  });

  it('fails cleanly while it stays down, and a later push succeeds', async () => {
    let killed: Promise<void> | undefined;
    const ref = `${registry.host}/crash-again/big:1`; // a repository without the blob yet
    const error = await pushImage(source, 'local/big:1', ref, {
      chunkSize: 256 << 10,
      retryDelayMs: 20,
      retries: 2,
      onEvent(event) {
        if (!killed && event.type === 'transfer' && event.id === `push:${bigLayer}` && event.current > 0) killed = registry.kill();
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await killed;
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'E_REGISTRY_UNREACHABLE', message: expect.stringContaining(registry.host) });
    expect(await readdir(source.layout.tmpDir)).toEqual([]); // no scratch left behind

    await registry.start();
    const pushed = await pushImage(source, 'local/big:1', ref, { retryDelayMs: 20 });
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
    expect(JSON.parse(stdout).Digest).toBe(pushed.descriptor.digest);
  });
});

type Fault = 'corrupt-blob' | 'corrupt-manifest' | 'flaky' | 'drop' | 'none';

/** A pass-through proxy in front of the registry that misbehaves on purpose. */
async function startProxy(upstream: TestRegistry): Promise<{ host: string; fault: Fault; faults: number; ranges: string[]; server: Server }> {
  const state = { host: '', fault: 'none' as Fault, faults: 0, ranges: [] as string[], server: undefined as unknown as Server };
  state.server = createServer((req, res) => {
    const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '');
    if (isBlob && req.headers.range) state.ranges.push(req.headers.range);
    const isManifest = req.method === 'GET' && /\/manifests\//.test(req.url ?? '');
    if (state.fault === 'flaky' && isBlob && state.faults < 2) {
      state.faults++;
      res.writeHead(503).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return;
    }
    const forward = request({ host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const tamper = (state.fault === 'corrupt-blob' && isBlob) || (state.fault === 'corrupt-manifest' && isManifest);
      if (state.fault === 'drop' && isBlob && state.faults < 1 && Number(up.headers['content-length']) > 1000) {
        state.faults++;
        res.writeHead(up.statusCode!, up.headers);
        up.once('data', (chunk: Buffer) => {
          res.write(chunk.subarray(0, 500));
          setTimeout(() => res.socket?.destroy(), 20);
        });
        return;
      }
      if (!tamper) {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body = Buffer.concat(chunks);
        if (isBlob && body.length > 0) body[body.length >> 1] ^= 0xff; // same length, other bytes
        if (isManifest) body = Buffer.concat([body, Buffer.from(' ')]);
        state.faults++;
        res.writeHead(up.statusCode!, { ...up.headers, 'content-length': String(body.length) });
        res.end(body);
      });
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.host = `127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

describe('a registry or proxy serving bad content', () => {
  let registry: TestRegistry;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  beforeAll(async () => {
    registry = await startRegistry();
    await pushImage(source, BUSYBOX_REFERENCE, `${registry.host}/served/busybox:1`, { retryDelayMs: 10 });
    proxy = await startProxy(registry);
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.server.close(resolve));
    await registry?.stop();
  });

  async function pullThroughProxy(fault: Fault, name: string) {
    proxy.fault = fault;
    proxy.faults = 0;
    proxy.ranges = [];
    const store = await Store.open(join(scratch, name));
    const outcome = await pullImage(store, `${proxy.host}/served/busybox:1`, { retryDelayMs: 10 }).then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error: error as RegistryError }),
    );
    return { store, ...outcome };
  }

  it('refuses a blob whose bytes do not match its digest, and stores nothing of it', async () => {
    const { store, error } = await pullThroughProxy('corrupt-blob', 'corrupt-blob');
    expect(proxy.faults).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'E_REGISTRY_DIGEST_MISMATCH', message: expect.stringContaining('served wrong content') });
    expect(await store.resolveTag(`${proxy.host}/served/busybox:1`)).toBeUndefined();
    expect(await readdir(store.layout.blobsDir)).toEqual([]);
    expect(await readdir(store.layout.ingestDir)).toEqual([]);
  });

  it('refuses a manifest that does not match the digest the registry announced', async () => {
    const { store, error } = await pullThroughProxy('corrupt-manifest', 'corrupt-manifest');
    expect(error).toMatchObject({ code: 'E_REGISTRY_DIGEST_MISMATCH', message: expect.stringContaining('manifest') });
    expect(await readdir(store.layout.blobsDir)).toEqual([]);
  });

  it('retries 503 answers, and resumes a connection dropped mid-body from where it stopped', async () => {
    for (const fault of ['flaky', 'drop'] as const) {
      const { store, result, error } = await pullThroughProxy(fault, `retry-${fault}`);
      expect(error).toBeUndefined();
      expect(proxy.faults).toBeGreaterThan(0);
      expect((await store.getImage(`${proxy.host}/served/busybox:1`))?.manifestDescriptor.digest).toBe(result!.manifest.digest);
      expect(proxy.ranges).toEqual(fault === 'drop' ? ['bytes=500-'] : []);
    }
  });
});

describe('zstd layers', () => {
  it('are pulled where the runtime has zstd, and refused up front with a clear error where it has not', async () => {
    const registry = await startRegistry();
    try {
      const store = await Store.open(join(scratch, 'zstd-source'));
      const layer = await store.ingest(Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])]));
      const config = await store.putJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('x')] } } satisfies ImageConfig, MediaType.ociConfig);
      const manifest = await store.putJson(
        { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [{ mediaType: MediaType.ociLayerZstd, ...layer }] } satisfies Manifest,
        MediaType.ociManifest,
      );
      await store.setTag('local/zstd:1', manifest);
      const ref = `${registry.host}/zstd/image:1`;
      await pushImage(store, 'local/zstd:1', ref, { retryDelayMs: 10 });
      const target = await Store.open(join(scratch, 'zstd-target'));
      const pulled = pullImage(target, ref, { retryDelayMs: 10 });
      if (zstdAvailable()) {
        expect((await pulled).manifest.digest).toBe(manifest.digest);
      } else {
        await expect(pulled).rejects.toMatchObject({ code: 'E_LAYER_UNSUPPORTED', message: expect.stringContaining('zstd'), hint: expect.stringContaining('Node.js 22.15') });
        expect(await readdir(target.layout.blobsDir)).toEqual([]); // refused before any download
      }
    } finally {
      await registry.stop();
    }
  });
});
