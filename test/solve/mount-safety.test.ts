// RUN --mount and ADD against hostile recipes: each test plants a canary on the host (a dir
// with a file in it, under /tmp) and points the attack at it, then checks that the canary is
// exactly as it was, besides what the build must do (fail clearly, or confine the effect).
// The attacks are the published ones: buildah CVE-2024-9675 and BuildKit CVE-2026-33747
// (path-like cache ids), buildah CVE-2024-1753 (bind source a symlink to /), CVE-2024-9407
// (injected mount options), BuildKit CVE-2024-23651 (a cache dir swapped for a symlink while
// another step uses it) and CVE-2024-23652 (mount stubs cleaned through a symlink).

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreLayout } from '../../src/store/layout.js';
import { busyboxImageLayout } from '../helpers/busybox-image.js';
import { runCli, type CliRun } from '../helpers/run-cli.js';
import { filesUnder, listTree, testdir, type Tree } from '../helpers/testdir.js';
// @ts-expect-error plain JS helper shared with scripts/conformance-reference.mjs
import { listImage } from '../helpers/image-listing.mjs';

let work: string;
let store: string;
let canary: string;
let canaryBefore: string[];
let built = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsbuild-mount-safety-'));
  store = join(work, 'store');
  const loaded = await runCli(['load', '--root', store, '-t', 'busybox:latest', await busyboxImageLayout()]);
  expect(loaded.status, loaded.stderr).toBe(0);
  canary = mkdtempSync(join(tmpdir(), 'tsbuild-canary-'));
  writeFileSync(join(canary, 'canary.txt'), 'untouched\n');
  canaryBefore = listTree(canary);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(canary, { recursive: true, force: true });
});

interface Built extends CliRun {
  /** The flattened image, one line per path (see test/helpers/image-listing.mjs). */
  listing(): Promise<string[]>;
  /** The listing line of one path, if the image has it. */
  line(path: string): Promise<string | undefined>;
}

async function build(dockerfile: string, tree: Tree = {}, flags: string[] = []): Promise<Built> {
  const context = testdir({ Dockerfile: dockerfile, ...tree });
  const archive = join(work, `image-${++built}.oci.tar`);
  const result = await runCli(['build', '--root', store, '--progress', 'plain', '--output', `type=oci,dest=${archive}`, ...flags, context]);
  const listing = async (): Promise<string[]> => (await listImage(archive)).listing;
  return { ...result, listing, line: async (path) => (await listing()).find((l) => l.startsWith(`${path} `)) };
}

function expectCanaryUntouched(): void {
  expect(listTree(canary)).toEqual(canaryBefore);
  expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`${canary.split('/').pop()}-`))).toEqual([]);
}

function expectClearFailure(result: CliRun, message: RegExp): void {
  expect(result.status, result.stderr).toBe(1);
  expect(result.stderr).toMatch(/^(error|ERROR): /m);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
}

describe('mount safety', () => {
  it('cache ids with ".." are rejected; other path-like ids name a dir inside the store', async () => {
    for (const id of ['../../x', 'a/../../x', '..', `${canary}/../x`]) {
      const result = await build(`FROM busybox\nRUN --mount=type=cache,id=${id},target=/c touch /c/pwned\n`);
      expectClearFailure(result, /cache id .* is not allowed/);
    }
    expectClearFailure(await build('FROM busybox\nRUN --mount=type=cache,id=a\0b,target=/c true\n'), /contains a NUL byte/);
    for (const id of [canary, `${canary}/sub`, '/', 'a/b/c']) {
      const result = await build(`FROM busybox\nRUN --mount=type=cache,id=${id},target=/c touch /c/pwned-by-id\n`);
      expect(result.status, result.stderr).toBe(0);
      const dir = new StoreLayout(store).cacheMount(id);
      expect(dir.startsWith(join(store, 'cache-mounts') + '/')).toBe(true);
      expect(existsSync(join(dir, 'pwned-by-id'))).toBe(true);
    }
    expectCanaryUntouched();
  });

  it('stage names, secret ids and image names with "..", "/" or NUL are rejected', async () => {
    for (const name of ['../x', 'a/b', 'a\0b']) {
      expectClearFailure(await build(`FROM busybox AS ${name}\nRUN true\n`), /invalid name for build stage/);
    }
    for (const id of ['../x', 'a/b', '..']) {
      expectClearFailure(await build(`FROM busybox\nRUN --mount=type=secret,id=${id} true\n`), /secret id .* is not allowed/);
    }
    expectClearFailure(await build('FROM busybox\nRUN --mount=type=secret,id=a\0b true\n'), /contains a NUL byte/);
    const secret = join(work, 'secret.txt');
    writeFileSync(secret, 'x');
    for (const id of ['../x', 'a/b']) {
      const result = await build('FROM busybox\nRUN true\n', {}, ['--secret', `id=${id},src=${secret}`]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/invalid --secret id/);
    }
    for (const tag of ['../../x', 'a/../b']) {
      const result = await build('FROM busybox\nRUN true\n', {}, ['-t', tag]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/NAME\[:TAG\]/);
    }
  });

  it('a bind mount of a stage dir that is a symlink to / mounts the stage root, never the host root', async () => {
    const hostOnly = canary.split('/').pop()!;
    const result = await build([
      'FROM busybox AS s',
      'RUN ln -s / /dir && mkdir /only-in-stage',
      'FROM busybox',
      // The step itself checks what it sees: the stage's root, without the host's /tmp entries.
      `RUN --mount=type=bind,from=s,source=/dir,target=/m test -d /m/only-in-stage && test -x /m/bin/busybox && test ! -e /m/tmp/${hostOnly}`,
      `RUN --mount=type=bind,from=s,source=/dir,target=/m,rw mkdir -p /m/tmp/${hostOnly} && echo pwned > /m/tmp/${hostOnly}/canary.txt && echo pwned > /m/tmp/${hostOnly}-new`,
      '',
    ].join('\n'));
    expect(result.status, result.stderr).toBe(0);
    expect((await result.listing()).some((l) => l.startsWith('/m/') || l.startsWith('/only-in-stage'))).toBe(false);
    expectCanaryUntouched();
  });

  it('unknown or injected mount options are errors, never passed on', async () => {
    const cases = [
      'type=bind,source=a.txt,target=/a,bind-propagation=shared',
      'type=bind,source=a.txt,target=/a,"bind-propagation=rshared"',
      'type=bind,"source=a.txt,target=/etc",target=/a',
      'type=cache,target=/c,options=rbind',
      'type=bind,source=a.txt,target=/a,,rw',
      'type=volume,target=/v',
    ];
    for (const mount of cases) {
      expectClearFailure(await build(`FROM busybox\nRUN --mount=${mount} true\n`, { 'a.txt': 'a\n' }), /--mount: /);
    }
    // A value that expands to a comma stays one value: here a file name, mounted read-only.
    const expanded = await build('FROM busybox\nARG X=a.txt,rw\nRUN --mount=type=bind,source=$X,target=/m touch /m/new\n', { 'a.txt,rw/': '' });
    expect(expanded.status).toBe(1);
    expect(expanded.stderr).toMatch(/Read-only file system/);
  });

  it('writes to an rw bind mount are discarded: the context and the stage stay as they were', async () => {
    const context = testdir({ 'a.txt': 'original\n', 'b.txt': 'keep\n' });
    const before = listTree(context);
    writeFileSync(join(context, 'Dockerfile'), [
      'FROM busybox AS s',
      'RUN mkdir /data && echo stage > /data/f',
      'FROM busybox',
      "RUN --mount=type=bind,target=/ctx,rw sh -c 'echo changed > /ctx/a.txt && rm /ctx/b.txt && touch /ctx/new && mkdir /ctx/dir'",
      "RUN --mount=type=bind,from=s,source=/data,target=/d,rw sh -c 'echo changed > /d/f && touch /d/new'",
      'RUN --mount=type=bind,from=s,source=/data,target=/d cat /d/f > /after && ls /d > /after-ls',
      'COPY --from=s /data /data',
      '',
    ].join('\n'));
    const archive = join(work, 'rw.oci.tar');
    const result = await runCli(['build', '--root', store, '--progress', 'plain', '--output', `type=oci,dest=${archive}`, context]);
    expect(result.status, result.stderr).toBe(0);
    expect(listTree(context).filter((l) => !l.startsWith('Dockerfile '))).toEqual(before);
    const listing: string[] = (await listImage(archive)).listing;
    const stage = listing.find((l) => l.startsWith('/data/f '));
    expect(listing.find((l) => l.startsWith('/after '))).toBe(stage?.replace('/data/f ', '/after '));
    expect(listing.find((l) => l.startsWith('/after-ls '))).toMatch(/ 2 sha256:/); // "f\n"
    expect(listing.some((l) => l.startsWith('/data/new') || l.startsWith('/ctx'))).toBe(false);
  });

  it('two parallel stages sharing a cache while one swaps a dir for a symlink stay confined', async () => {
    const loop = (body: string) => `i=0; while [ $i -lt 200 ]; do ${body}; i=$((i+1)); done`;
    const result = await build([
      'FROM busybox AS swapper',
      `RUN --mount=type=cache,id=race,target=/c sh -c '${loop(`rm -rf /c/d; ln -s ${canary} /c/d; rm -f /c/d; ln -s / /c/d; rm -f /c/d; mkdir -p /c/d`)}; echo done > /swapped'`,
      'FROM busybox AS writer',
      `RUN --mount=type=cache,id=race,target=/c sh -c '${loop(`echo pwned > /c/d/pwned 2>/dev/null; echo pwned > /c/d${canary}/canary.txt 2>/dev/null`)}; echo done > /wrote'`,
      'FROM busybox',
      'COPY --from=swapper /swapped /',
      'COPY --from=writer /wrote /',
      '',
    ].join('\n'));
    expect(result.status, result.stderr).toBe(0);
    expect(await result.line('/swapped')).toBeDefined();
    expect(await result.line('/wrote')).toBeDefined();
    expectCanaryUntouched();
    expect(existsSync('/pwned')).toBe(false);
    // Whatever the race left, it is inside the cache dir in the store.
    const dir = new StoreLayout(store).cacheMount('race');
    for (const name of readdirSync(dir)) expect(['d', 'pwned']).toContain(name);
  });

  it('mount points never reach a layer, even where the image has a symlink to a host path', async () => {
    const secret = join(work, 'stub-secret.txt');
    writeFileSync(secret, 'stub-secret-value');
    const result = await build([
      'FROM busybox',
      // COPY, not RUN: a step cannot replace /etc/hosts, which the sandbox mounts (as Docker's).
      'COPY links/ /',
      'RUN --mount=type=secret,id=tok --mount=type=cache,target=/cachet --mount=type=tmpfs,target=/tmpfst ' +
        "sh -c 'cat /etc/hosts > /seen-hosts && cat /run/secrets/tok > /dev/null && touch /cachet/x /tmpfst/x'",
      '',
    ].join('\n'), {
      'links/etc/hosts': { symlink: `${canary}/canary.txt` },
      'links/run/secrets': { symlink: canary },
      'links/cachet': { symlink: canary },
      'links/tmpfst': { symlink: canary },
    }, ['--secret', `id=tok,src=${secret}`]);
    expect(result.status, result.stderr).toBe(0);
    const listing = await result.listing();
    // The image keeps the user's symlinks; no stub file or dir replaced them.
    expect(listing).toContain(`/etc/hosts symlink 0777 0:0 -> ${canary}/canary.txt`);
    expect(listing).toContain(`/run/secrets symlink 0777 0:0 -> ${canary}`);
    expect(listing).toContain(`/cachet symlink 0777 0:0 -> ${canary}`);
    expect(listing).toContain(`/tmpfst symlink 0777 0:0 -> ${canary}`);
    expect(listing.some((l) => /^\/(run\/secrets|cachet|tmpfst)\//.test(l))).toBe(false);
    // The step read the sandbox's own hosts file, not the canary through the symlink.
    expect(await result.line('/seen-hosts')).not.toMatch(/ 10 sha256:/);
    expectCanaryUntouched();
  });

  it('ADD of a hostile tar never writes outside the image, and fails clearly', async () => {
    const tars = {
      dotdot: tarOf([{ name: `../../../../../..${canary}/canary.txt`, body: 'pwned\n' }]),
      absolute: tarOf([{ name: `${canary}/canary.txt`, body: 'pwned\n' }]),
      throughSymlink: tarOf([{ name: 'abs', symlink: canary }, { name: 'abs/canary.txt', body: 'pwned\n' }]),
      throughRelative: tarOf([{ name: 'up', symlink: '../../../../../../../..' }, { name: `up${canary}/canary.txt`, body: 'pwned\n' }]),
    };
    for (const [name, tar] of Object.entries(tars)) {
      const result = await build(`FROM busybox\nADD evil.tar /x/\n`, { 'evil.tar': { file: tar } });
      expectCanaryUntouched();
      if (result.status === 0) {
        // Accepted only when every entry stayed inside /x of the image.
        const listing = await result.listing();
        expect(listing.filter((l) => l.includes('pwned') || l.includes(canary)).every((l) => l.startsWith('/x/')), name).toBe(true);
      } else {
        expectClearFailure(result, /tar entry .* (points outside|through a symlink)|outside the layer root|unsafe/);
      }
    }
  });

  it('a secret leaves no trace in the image, the archive, the progress log or the store', async () => {
    const value = 'sekrit-5d1f0a93c2e8';
    const secret = join(work, 'trace-secret.txt');
    writeFileSync(secret, value);
    const context = testdir({
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=secret,id=tok --mount=type=cache,target=/cache wc -c /run/secrets/tok > /len && echo cached > /cache/c',
        'RUN --mount=type=secret,id=tok,env=TOK echo ${#TOK} > /env-len',
        '',
      ].join('\n'),
    });
    const archive = join(work, 'trace.tar');
    const image = join(work, 'trace.oci.tar');
    const buildArchive = join(work, 'trace-build.tar');
    const result = await runCli([
      'build', '--root', store, '--progress', 'json', '--secret', `id=tok,src=${secret}`, '--archive', buildArchive, '--archive-cache-mounts',
      '--output', `type=oci,dest=${image}`, '--output', `type=docker,dest=${archive}`, context,
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/"type":"step.done"/);
    expect(await lineOf(image, '/env-len')).toMatch(/ 3 sha256:/);
    for (const text of [result.stdout, result.stderr]) expect(text.includes(value)).toBe(false);
    for (const file of [image, archive, buildArchive, ...filesUnder(store)]) {
      expect(readFileSync(file).includes(value), file).toBe(false);
    }
  });
});

async function lineOf(archive: string, path: string): Promise<string | undefined> {
  return ((await listImage(archive)).listing as string[]).find((l) => l.startsWith(`${path} `));
}


/** A ustar archive written by hand, so that names no tar tool would write are possible. */
function tarOf(entries: Array<{ name: string; body?: string; symlink?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = Buffer.alloc(512);
    const name = Buffer.from(entry.name);
    if (name.length > 100) throw new Error(`tar entry name too long for this test: ${entry.name}`);
    header.write(entry.name, 0);
    header.write(entry.symlink ? '0000777\0' : '0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${(entry.symlink ? 0 : body.length).toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write(entry.symlink ? '2' : '0', 156);
    if (entry.symlink) header.write(entry.symlink, 157);
    header.write('ustar\0', 257);
    header.write('00', 263);
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header);
    if (!entry.symlink) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
