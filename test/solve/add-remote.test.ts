// ADD <URL> against a real HTTP server on 127.0.0.1 that the test starts: fetched only with
// --network host, written 0600 under the URL's last name and never unpacked, --checksum
// verified (and enough for a cache hit without a request), a clear error otherwise.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { archivedJson, provenanceDependencies } from '../helpers/archive-json.js';
import { runCli } from '../helpers/run-cli.js';
import { testdir } from '../helpers/testdir.js';
// @ts-expect-error plain JS helper shared with scripts/conformance-reference.mjs
import { listImage } from '../helpers/image-listing.mjs';

const files = new Map<string, Buffer>([
  ['/file.txt', Buffer.from('remote content\n')],
  // A gzip stream: ADD of a URL never unpacks it, unlike a local archive.
  ['/pkg.tar.gz', Buffer.from('1f8b0800000000000003030000000000000000', 'hex')],
]);
const requests: string[] = [];
let server: Server;
let base: string;
let work: string;
let store: string;

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body ?? 'not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  work = mkdtempSync(join(tmpdir(), 'tsbuild-add-remote-'));
  store = join(work, 'store');
  const loaded = await runCli(['load', '--root', store, '-t', 'busybox:latest', await busyboxImageLayout()]);
  expect(loaded.status, loaded.stderr).toBe(0);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

async function build(dockerfile: string, flags: string[] = []) {
  const archive = join(work, `${requests.length}-${Math.random().toString(36).slice(2)}.oci.tar`);
  const result = await runCli(['build', '--root', store, '--progress', 'plain', '--output', `type=oci,dest=${archive}`, ...flags, testdir({ Dockerfile: dockerfile })]);
  return { ...result, listing: async (): Promise<string[]> => (await listImage(archive)).listing };
}

describe('ADD <URL>', () => {
  it('with --network host fetches the file, checks --checksum, writes it 0600 and never unpacks it', async () => {
    const file = files.get('/file.txt')!;
    const result = await build([
      'FROM busybox',
      `ADD --checksum=${sha256(file)} ${base}/file.txt /f`,
      `ADD ${base}/file.txt /dir/`,
      `ADD --chmod=0644 --chown=1000:1000 ${base}/pkg.tar.gz /pkg/`,
      '',
    ].join('\n'), ['--network', 'host']);
    expect(result.status, result.stderr).toBe(0);
    const listing = await result.listing();
    expect(listing).toContain(`/f file 0600 0:0 ${file.length} ${sha256(file)}`);
    expect(listing).toContain(`/dir/file.txt file 0600 0:0 ${file.length} ${sha256(file)}`);
    const tgz = files.get('/pkg.tar.gz')!;
    expect(listing).toContain(`/pkg/pkg.tar.gz file 0644 1000:1000 ${tgz.length} ${sha256(tgz)}`);
  });

  it('a --checksum is the cache key: a rebuild hits the cache without a request', async () => {
    const dockerfile = `FROM busybox\nADD --checksum=${sha256(files.get('/file.txt')!)} ${base}/file.txt /cached\n`;
    const first = await build(dockerfile, ['--network', 'host']);
    expect(first.status, first.stderr).toBe(0);
    const before = requests.length;
    const second = await build(dockerfile, ['--network', 'host']);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/CACHED/);
    expect(requests.length).toBe(before);
  });

  it('an archive records what ADD fetched: build.json names the URL and digest, the provenance lists it', async () => {
    const file = files.get('/file.txt')!;
    const archive = join(work, 'fetched.tar');
    const result = await runCli(['build', '--root', store, '-q', '--network', 'host', '--archive', archive, testdir({ Dockerfile: `FROM busybox\nADD ${base}/file.txt /f\n` })]);
    expect(result.status, result.stderr).toBe(0);
    const buildJson = archivedJson(archive).find((json) => json.recipe !== undefined) as { steps: Array<{ fetched?: unknown }> };
    expect(buildJson.steps.map((step) => step.fetched).filter(Boolean)).toEqual([{ uri: `${base}/file.txt`, digest: sha256(file) }]);
    expect(provenanceDependencies(archive)).toContainEqual({ uri: `${base}/file.txt`, digest: { sha256: sha256(file).slice('sha256:'.length) } });
  });

  it('a checksum mismatch, a 404 and a missing network are clear errors', async () => {
    const mismatch = await build(`FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/file.txt /f\n`, ['--network', 'host']);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/checksum mismatch: expected sha256:0{64}, got sha256:[0-9a-f]{64}/);
    const missing = await build(`FROM busybox\nADD ${base}/nope.txt /f\n`, ['--network', 'host']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/the server answered 404/);
    const before = requests.length;
    const offline = await build(`FROM busybox\nADD --checksum=${sha256(files.get('/file.txt')!)} ${base}/file.txt /f\n`);
    expect(offline.status).toBe(1);
    expect(offline.stderr).toMatch(/needs the network, and this build runs with --network none/);
    expect(requests.length).toBe(before);
    for (const text of [mismatch.stderr, missing.stderr, offline.stderr]) expect(text).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
  });

  it('a git source among other sources is refused with a clear message', async () => {
    const result = await build('FROM busybox\nADD https://example.invalid/repo.git#main Dockerfile /src/\n', ['--network', 'host']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ADD https:\/\/example.invalid\/repo.git#main: a URL among other sources is not supported/);
  });
});
