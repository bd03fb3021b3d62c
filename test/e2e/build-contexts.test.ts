// Named contexts, as `docker buildx build --build-context` gives them: another local directory
// for COPY --from and RUN --mount, or another image for FROM; either overrides a stage or image
// of the same name. A build archive keeps both, so a replay needs neither.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { writeTree } from '../helpers/testdir.js';
import { openSession, stepOutcomes, type Session } from './session.js';

describe('tsbuild build --build-context', () => {
  let session: Session;
  let docs: string;
  beforeAll(async () => {
    session = await openSession();
    docs = join(session.dir, 'docs');
    writeTree(docs, { 'readme.txt': 'read me\n', 'draft.txt': 'not yet\n', '.dockerignore': 'draft.txt\n' });
  });
  afterAll(() => session.close());

  /** Builds `context` with `args` into an OCI archive; the image's files, one line each. */
  async function builtFiles(name: string, args: string[], context: string): Promise<string[]> {
    const archive = join(session.dir, `${name}.tar`);
    const built = await session.tsbuild(['build', '-q', ...args, '-o', `type=oci,dest=${archive}`, context]);
    expect(built.status, built.stderr).toBe(0);
    return (await session.list(archive)).listing;
  }

  it('COPY --from and RUN --mount from= read a named directory, through its own .dockerignore', async () => {
    const context = join(session.dir, 'app');
    writeTree(context, { Dockerfile: 'FROM busybox\nCOPY --from=docs . /docs/\nRUN --mount=from=docs,target=/m cat /m/readme.txt > /mounted\n' });
    const files = await builtFiles('app', ['--build-context', 'docs=docs'], context);
    expect(files.find((line: string) => line.startsWith('/docs/readme.txt '))).toMatch(/ 0644 0:0 8 /);
    expect(files.some((line: string) => line.startsWith('/docs/draft.txt '))).toBe(false);
    expect(files.find((line: string) => line.startsWith('/mounted '))).toMatch(/ 8 /);

    writeFileSync(join(docs, 'readme.txt'), 'read me, v2\n');
    const again = await session.buildJson(['--build-context', 'docs=docs', context]);
    expect(again.status, again.stderr).toBe(0);
    expect(stepOutcomes(again.events).ran).toEqual(['COPY --from=docs . /docs/', 'RUN --mount=from=docs,target=/m cat /m/readme.txt > /mounted']);
  });

  it('a named directory overrides the stage of the same name, which is then not built', async () => {
    const context = join(session.dir, 'override');
    writeTree(context, { Dockerfile: 'FROM scratch AS docs\nCOPY not-in-the-context.txt /\n\nFROM busybox\nCOPY --from=docs readme.txt /readme.txt\n' });
    const files = await builtFiles('override', ['--build-context', 'docs=docs'], context);
    expect(files.find((line: string) => line.startsWith('/readme.txt '))).toMatch(/ 12 /);
  });

  it('docker-image://REF stands for an image name in FROM', async () => {
    const context = join(session.dir, 'pinned');
    writeTree(context, { Dockerfile: 'FROM alpine:3.20\nRUN busybox --help > /dev/null && echo ran on busybox > /which\n' });
    const built = await session.buildJson(['--pull=false', '--build-context', 'alpine:3.20=docker-image://busybox:latest', context]);
    expect(built.status, built.stderr).toBe(0);
    const scratch = join(session.dir, 'empty-base');
    writeTree(scratch, { Dockerfile: 'FROM base\nCOPY Dockerfile /\n' });
    const fromScratch = await session.tsbuild(['build', '-q', '--build-context', 'base=docker-image://scratch', scratch]);
    expect(fromScratch.status, fromScratch.stderr).toBe(0);
  });

  it('FROM a named directory starts from its files, cached by their content', async () => {
    const context = join(session.dir, 'from-dir');
    writeTree(context, { Dockerfile: 'FROM docs\nCOPY --from=busybox /bin/busybox /bin/busybox\nRUN ["/bin/busybox", "cp", "/readme.txt", "/copied.txt"]\n' });
    const files = await builtFiles('from-dir', ['--build-context', 'docs=docs'], context);
    expect(files.find((line: string) => line.startsWith('/readme.txt '))).toMatch(/ 0644 0:0 /);
    expect(files.find((line: string) => line.startsWith('/copied.txt '))).toMatch(/ 0644 0:0 /);
    expect(files.some((line: string) => line.startsWith('/draft.txt '))).toBe(false);
    const again = await session.buildJson(['--build-context', 'docs=docs', context]);
    expect(stepOutcomes(again.events).ran).toEqual([]);
    writeFileSync(join(docs, 'readme.txt'), 'read me, v3\n');
    const changed = await session.buildJson(['--build-context', 'docs=docs', context]);
    expect(changed.status, changed.stderr).toBe(0);
    expect(stepOutcomes(changed.events).ran).toEqual(['COPY --from=busybox /bin/busybox /bin/busybox', 'RUN ["/bin/busybox", "cp", "/readme.txt", "/copied.txt"]']);
  });

  it('says clearly what it cannot do', async () => {
    const context = join(session.dir, 'errors');
    writeTree(context, { Dockerfile: 'FROM busybox\nRUN true\n' });
    const tarball = await session.tsbuild(['build', '--build-context', 'src=https://example.com/src.tar.gz', context]);
    expect(tarball.status).toBe(2);
    expect(tarball.stderr).toContain('only local directories, git repositories and docker-image:// references are supported');
    const missing = await session.tsbuild(['build', '--build-context', 'src=nowhere', context]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--build-context src');
    const twice = await session.tsbuild(['build', '--build-context', 'Docs=docs', '--build-context', 'docs=docker-image://busybox', context]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain('the name docs is given twice (names ignore case)');
    for (const run of [tarball, missing, twice]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  /** `tsbuild build -q --archive` of `context`; the image digest it printed. */
  async function buildArchive(archive: string, args: string[], context: string): Promise<string> {
    const built = await session.tsbuild(['build', '-q', '--archive', archive, ...args, context]);
    expect(built.status, built.stderr).toBe(0);
    return built.stdout.trim();
  }

  /** `tsbuild replay` into a store of its own: the replay.done report. */
  async function replayInFreshStore(archive: string, store: string) {
    const replayed = await runCli(['replay', '--root', join(session.dir, store), '--progress', 'json', archive], { cwd: session.dir });
    expect(replayed.status, replayed.stderr).toBe(0);
    return JSON.parse(replayed.stdout.trim().split('\n').at(-1)!);
  }

  it('--archive keeps a named directory as its .dockerignore leaves it, and replay rebuilds the image without it', async () => {
    const notes = join(session.dir, 'notes');
    writeTree(notes, { 'notes.txt': 'notes-kept-marker\n', 'draft.txt': 'draft-ignored-marker\n', '.dockerignore': 'draft.txt\n' });
    const context = join(session.dir, 'archived');
    writeTree(context, {
      Dockerfile: [
        'FROM notes AS files',
        'FROM busybox',
        'COPY --from=notes . /notes/',
        'COPY --from=files / /from-stage/',
        'RUN --mount=from=notes,target=/m cat /m/notes.txt > /mounted',
        '',
      ].join('\n'),
    });
    const archive = join(session.dir, 'archived.tar');
    // A --label is part of the final config only: replay makes the same image only if it was archived.
    const digest = await buildArchive(archive, ['--build-context', `notes=${notes}`, '--label', 'org.example.release=1.4'], context);
    const bytes = readFileSync(archive);
    expect(bytes.includes('notes-kept-marker')).toBe(true);
    expect(bytes.includes('draft-ignored-marker')).toBe(false);

    rmSync(notes, { recursive: true });
    const report = await replayInFreshStore(archive, 'replay-named-dir');
    expect(report).toMatchObject({ reproduced: 3, total: 3, image: { archived: digest, rebuilt: digest } });
    const shell = await session.tsbuild(['shell', archive, '--', 'cat', '/mounted', '/from-stage/notes.txt']);
    expect(shell.stdout, shell.stderr).toBe('notes-kept-marker\nnotes-kept-marker\n');
    const logs = await session.tsbuild(['logs', archive]);
    expect(logs.status, logs.stderr).toBe(0);
    const diff = await session.tsbuild(['diff', archive, digest]);
    expect(diff.status, diff.stdout).toBe(0);
  });

  it('--archive keeps a docker-image:// context as a base image, and replay resolves it offline', async () => {
    const context = join(session.dir, 'archived-image');
    writeTree(context, { Dockerfile: 'FROM alpine:3.20\nRUN busybox --help > /dev/null && echo ran on busybox > /which\n' });
    const archive = join(session.dir, 'archived-image.tar');
    const digest = await buildArchive(archive, ['--pull=false', '--build-context', 'alpine:3.20=docker-image://busybox:latest'], context);
    const report = await replayInFreshStore(archive, 'replay-named-image');
    expect(report).toMatchObject({ reproduced: 1, total: 1, image: { archived: digest, rebuilt: digest } });
  });
});
