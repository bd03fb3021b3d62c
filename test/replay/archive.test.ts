// A user's session with build archives: build with --archive, read it with real OCI tools,
// replay it into an empty store, find a non-reproducible step, enter a step with a shell,
// compare two steps, and read the logs.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImageTar } from '../helpers/busybox-image.js';
import { runCli } from '../helpers/run-cli.js';

const SECRET = 'tok-3f9a1c77e2-never-in-archive';

/**
 * Copies a build archive to `dest` with its build.json edited as `edit` says, the artifact
 * manifest and index.json rewritten to match: how an archive of another version looks.
 */
function withBuildInfo(archive: string, dest: string, edit: (info: Record<string, unknown>) => void): string {
  const layout = mkdtempSync(join(tmpdir(), 'tsbuild-archive-edit-'));
  try {
    execFileSync('tar', ['-xf', archive, '-C', layout]);
    const blobPath = (digest: string) => join(layout, 'blobs', digest.replace(':', '/'));
    /** Writes `value` as a new blob in place of `descriptor`'s, and points the descriptor at it. */
    const replaceBlob = (descriptor: { digest: string; size: number }, value: unknown) => {
      const bytes = Buffer.from(JSON.stringify(value));
      unlinkSync(blobPath(descriptor.digest));
      descriptor.digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      descriptor.size = bytes.length;
      writeFileSync(blobPath(descriptor.digest), bytes);
    };
    const readBlob = (digest: string) => JSON.parse(readFileSync(blobPath(digest), 'utf8'));
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const artifactEntry = index.manifests.find((m: { annotations: Record<string, string> }) => m.annotations['dev.tsbuild.role'] === 'build');
    const artifact = readBlob(artifactEntry.digest);
    const infoEntry = artifact.layers.find((l: { mediaType: string }) => l.mediaType === 'application/vnd.tsbuild.build.v1+json');
    const info = readBlob(infoEntry.digest);
    edit(info);
    replaceBlob(infoEntry, info);
    replaceBlob(artifactEntry, artifact);
    writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
    execFileSync('tar', ['-cf', dest, '-C', layout, 'oci-layout', 'index.json', 'blobs']);
    return dest;
  } finally {
    rmSync(layout, { recursive: true, force: true });
  }
}

describe('build archives: replay, shell, diff, logs', () => {
  let work: string;
  let store: string;
  let stable: string;
  let unstable: string;

  const recipe = (dir: string, dockerfile: string, files: Record<string, string> = {}) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return dir;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tsbuild-archive-'));
    store = join(work, 'store');
    const loaded = await runCli(['load', '--root', store, '-t', 'busybox:latest', await busyboxImageTar()]);
    expect(loaded.status, loaded.stderr).toBe(0);
    writeFileSync(join(work, 'secret.txt'), SECRET);
    stable = recipe(join(work, 'stable'), [
      'FROM busybox AS build',
      'COPY app.txt /src/app.txt',
      'RUN --mount=type=secret,id=tok test -s /run/secrets/tok && tr a-z A-Z < /src/app.txt > /src/APP.txt && echo transformed',
      'FROM busybox',
      'COPY --from=build /src/APP.txt /app/',
      'RUN echo final > /app/final',
      'CMD ["cat", "/app/APP.txt"]',
      '',
    ].join('\n'), { 'app.txt': 'hello archive\n' });
    unstable = recipe(join(work, 'unstable'), [
      'FROM busybox',
      'RUN echo stable > /stable',
      'RUN date > /stamp && cat /proc/sys/kernel/random/uuid >> /stamp && echo stamped',
      'RUN echo after > /after',
      '',
    ].join('\n'));
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const build = (context: string, archive: string, extra: string[] = []) =>
    runCli(['build', '--root', store, '--progress', 'plain', '--archive', archive, ...extra, context]);

  it('writes an archive that skopeo and umoci read: the final image and one image per step', async () => {
    const archive = join(work, 'stable.tar');
    const built = await build(stable, archive, ['--secret', `id=tok,src=${join(work, 'secret.txt')}`, '-t', 'stable']);
    expect(built.status, built.stderr).toBe(0);
    const final = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${archive}:image`], { encoding: 'utf8' }));
    expect(final.Layers.length).toBeGreaterThan(1);
    const layout = join(work, 'layout');
    mkdirSync(layout);
    execFileSync('tar', ['-xf', archive, '-C', layout]);
    // Step 2 is the build stage's RUN: its environment has /src/APP.txt; step 1's has not.
    execFileSync('umoci', ['unpack', '--image', `${layout}:step-2`, join(work, 'step2')]);
    execFileSync('umoci', ['unpack', '--image', `${layout}:step-1`, join(work, 'step1')]);
    expect(readFileSync(join(work, 'step2/rootfs/src/APP.txt'), 'utf8')).toBe('HELLO ARCHIVE\n');
    expect(() => statSync(join(work, 'step1/rootfs/src/APP.txt'))).toThrow();
    expect(readFileSync(join(work, 'step1/rootfs/src/app.txt'), 'utf8')).toBe('hello archive\n');
  });

  it('never holds the secret, and is about the size of the final image plus the context', () => {
    const archive = readFileSync(join(work, 'stable.tar'));
    expect(archive.includes(SECRET)).toBe(false);
    const final = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${join(work, 'stable.tar')}:image`], { encoding: 'utf8' }));
    const imageBytes = final.layers.reduce((sum: number, layer: { size: number }) => sum + layer.size, 0);
    // Every layer once: the per-step images share their layers with the final image.
    expect(archive.length).toBeLessThan(imageBytes * 1.3 + 256 * 1024);
  });

  it('replays into an empty store with no network: every step reproduced, exit 0', async () => {
    const secret = `id=tok,src=${join(work, 'secret.txt')}`;
    const replayed = await runCli(['replay', '--root', join(work, 'empty-1'), '--progress', 'plain', '--secret', secret, join(work, 'stable.tar')]);
    expect(replayed.status, replayed.stderr).toBe(0);
    expect(replayed.stdout).toBe('reproduced 5/5 steps\n');
  });

  it('replays an archive of version 1 (before named contexts) as before; a newer version it reads but does not replay', async () => {
    const secret = `id=tok,src=${join(work, 'secret.txt')}`;
    const v1 = withBuildInfo(join(work, 'stable.tar'), join(work, 'stable-v1.tar'), (info) => {
      info.version = 1;
      delete info.namedContexts;
    });
    const replayed = await runCli(['replay', '--root', join(work, 'empty-v1'), '--progress', 'quiet', '--secret', secret, v1]);
    expect(replayed.status, replayed.stderr).toBe(0);
    expect(replayed.stdout).toBe('reproduced 5/5 steps\n');
    const logs = await runCli(['logs', '--root', join(work, 'empty-v1'), v1, '--step', '2']);
    expect(logs.stdout).toBe('transformed\n');

    const future = withBuildInfo(join(work, 'stable.tar'), join(work, 'stable-v99.tar'), (info) => {
      info.version = 99;
    });
    const refused = await runCli(['replay', '--root', join(work, 'empty-v99'), '--progress', 'quiet', future]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('is a build archive of version 99 (written by tsbuild ');
    expect(refused.stderr).toContain('E_ARCHIVE_VERSION');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    // Only a replay could miss an input a later version added; the steps' logs and images read.
    const futureLogs = await runCli(['logs', '--root', join(work, 'empty-v99'), future, '--step', '2']);
    expect(futureLogs.stdout).toBe('transformed\n');
  });

  it('names the first step that did not reproduce, its line, and the file that changed', async () => {
    const archive = join(work, 'unstable.tar');
    expect((await build(unstable, archive)).status).toBe(0);
    const replayed = await runCli(['replay', '--root', join(work, 'empty-2'), '--progress', 'quiet', archive]);
    expect(replayed.status).toBe(5);
    expect(replayed.stdout).toMatch(/^step #2 \[.*\] RUN date > \/stamp .* \(Dockerfile:3:1\) did not reproduce$/m);
    expect(replayed.stdout).toContain('~ /stamp: content');
    expect(replayed.stdout).toMatch(/^-[0-9a-f]{8}-/m);
    expect(replayed.stdout).toContain('reproduced 1/3 steps');
  });

  it('replay --progress json prints the report as data', async () => {
    const replayed = await runCli(['replay', '--root', join(work, 'empty-3'), '--progress', 'json', join(work, 'unstable.tar')]);
    const report = JSON.parse(replayed.stdout.trim().split('\n').at(-1)!);
    expect(report).toMatchObject({ type: 'replay.done', total: 3, reproduced: 1, divergent: [2, 3] });
    expect(report.first.changes.map((c: { path: string }) => c.path)).toEqual(['/stamp']);
  });

  it('shell --step N sees the files that existed after step N and not later ones', async () => {
    const archive = join(work, 'unstable.tar');
    const after1 = await runCli(['shell', '--root', store, archive, '--step', '1', '--', 'ls', '/']);
    expect(after1.status, after1.stderr).toBe(0);
    expect(after1.stdout.split('\n')).toContain('stable');
    expect(after1.stdout.split('\n')).not.toContain('stamp');
    const after3 = await runCli(['shell', '--root', store, `${archive}@3`, '--', 'cat', '/after']);
    expect(after3.stdout).toBe('after\n');
  });

  it('diff names the layers and files between two steps', async () => {
    const archive = join(work, 'unstable.tar');
    const diff = await runCli(['diff', '--root', store, `${archive}@1`, `${archive}@3`]);
    expect(diff.status).toBe(1);
    expect(diff.stdout).toContain('+ /after (file 0644 0:0 6)');
    expect(diff.stdout).toContain('+ /stamp');
    expect(diff.stdout).not.toContain('/stable');
    const same = await runCli(['diff', '--root', store, `${archive}@2`, `${archive}@2`]);
    expect(same.status).toBe(0);
  });

  it('--archive-cache-mounts keeps the cache mounts, and replay starts from them', async () => {
    const context = recipe(join(work, 'cached'), [
      'FROM busybox',
      'RUN --mount=type=cache,id=pkgs,target=/var/cache/pkgs echo cached-content-marker > /var/cache/pkgs/index && echo done > /done',
      '',
    ].join('\n'));
    const archive = join(work, 'cached.tar');
    const built = await build(context, archive, ['--archive-cache-mounts']);
    expect(built.status, built.stderr).toBe(0);
    expect(readFileSync(archive).includes('cached-content-marker')).toBe(true);
    const replayStore = join(work, 'empty-cache');
    const replayed = await runCli(['replay', '--root', replayStore, '--progress', 'quiet', archive]);
    expect(replayed.stdout).toBe('reproduced 1/1 steps\n');
    const cacheDir = join(replayStore, 'cache-mounts', createHash('sha256').update('pkgs').digest('hex'));
    expect(readFileSync(join(cacheDir, 'index'), 'utf8')).toBe('cached-content-marker\n');
  });

  it('logs prints every step\'s whole output, for an archive and for an image built here', async () => {
    const fromArchive = await runCli(['logs', '--root', store, join(work, 'unstable.tar'), '--step', '2']);
    expect(fromArchive.stdout).toBe('stamped\n');
    const fromImage = await runCli(['logs', '--root', store, 'stable']);
    expect(fromImage.status, fromImage.stderr).toBe(0);
    expect(fromImage.stdout).toMatch(/#2 \[build 2\/2\] RUN --mount=type=secret.*\ntransformed\n/);
  });
});
