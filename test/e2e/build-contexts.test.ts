// Named contexts, as `docker buildx build --build-context` gives them: another local directory
// for COPY --from and RUN --mount, or another image for FROM; either overrides a stage or image
// of the same name.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const git = await session.tsbuild(['build', '--build-context', 'src=https://example.com/repo.git', context]);
    expect(git.status).toBe(2);
    expect(git.stderr).toContain('only local directories and docker-image:// references are supported');
    const missing = await session.tsbuild(['build', '--build-context', 'src=nowhere', context]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--build-context src');
    const archived = await session.tsbuild(['build', '--archive', join(session.dir, 'a.tar'), '--build-context', 'docs=docs', join(session.dir, 'app')]);
    expect(archived.status).toBe(2);
    expect(archived.stderr).toContain('--archive with a --build-context directory');
    for (const run of [git, missing, archived]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
