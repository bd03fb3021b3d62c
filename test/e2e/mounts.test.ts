// RUN --mount in a user's builds: secrets that leave no trace, a cache that outlives builds,
// bind mounts whose writes are thrown away.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, testdir } from '../helpers/testdir.js';
import { openSession, type Session } from './session.js';

describe('RUN --mount', () => {
  let session: Session;

  beforeAll(async () => {
    session = await openSession();
  });
  afterAll(() => session.close());

  it('a secret reaches the step as a file and as env, and appears in no layer, config, log, key or cache record', async () => {
    const secret = 'tok-8f3a1c9e77d2';
    const context = testdir({
      Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=api wc -c < /run/secrets/api > /len\nRUN --mount=type=secret,id=api,env=API_TOKEN test ${#API_TOKEN} = 16 && echo ok > /env-ok\n',
      'secret.txt': secret,
    });
    const archive = join(session.dir, 'secret.tar');
    const built = await session.buildJson(['--secret', `id=api,src=${join(context, 'secret.txt')}`, '-o', `type=oci,dest=${archive}`, context]);
    expect(built.status, built.stderr).toBe(0);
    const { listing } = await session.list(archive);
    expect(listing.find((l: string) => l.startsWith('/len '))).toMatch(/ 3 sha256:/);
    expect(listing.find((l: string) => l.startsWith('/env-ok '))).toBeDefined();
    expect(listing.some((l: string) => l.startsWith('/run/secrets'))).toBe(false);
    expect(readFileSync(archive).includes(secret)).toBe(false);
    expect(built.stderr.includes(secret)).toBe(false);
    for (const file of filesUnder(session.store)) expect(readFileSync(file).includes(secret), file).toBe(false);

    const changed = testdir({ Dockerfile: readFileSync(join(context, 'Dockerfile'), 'utf8'), 'secret.txt': 'another-value-16' });
    const again = await session.buildJson(['--secret', `id=api,src=${join(changed, 'secret.txt')}`, changed]);
    expect(again.events.filter((e) => e.type === 'step.done')).toEqual([]);
  });

  it('a missing required secret is a clear error at the step', async () => {
    const context = testdir({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=api,required=true cat /run/secrets/api\n' });
    const result = await session.tsbuild(['build', context]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^\S*Dockerfile:2:1\n[^]*^ERROR: secret "api" is required by this step but was not given/m);
    expect(result.stderr).toContain('hint: pass it with --secret id=api,src=FILE');
  });

  it('a cache mount keeps its content across builds and never enters a layer', async () => {
    const dockerfile = (n: number) => `FROM busybox\nRUN --mount=type=cache,target=/var/cache/app echo run${n} >> /var/cache/app/log && cp /var/cache/app/log /seen\n`;
    const first = await session.tsbuild(['build', '-q', testdir({ Dockerfile: dockerfile(1) })]);
    expect(first.status, first.stderr).toBe(0);
    const archive = join(session.dir, 'cache.tar');
    const second = await session.tsbuild(['build', '-q', '-o', `type=oci,dest=${archive}`, testdir({ Dockerfile: dockerfile(2) })]);
    expect(second.status, second.stderr).toBe(0);
    const { listing } = await session.list(archive);
    // Neither the cache's files nor its mount point reach the layer (as current BuildKit).
    expect(listing.some((l: string) => l.startsWith('/var/cache/app'))).toBe(false);
    expect(listing.find((l: string) => l.startsWith('/seen '))).toMatch(/ 10 sha256:/);
  });

  it('a bind mount of the context is read-only; with rw, writes are thrown away', async () => {
    const context = testdir({
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=bind,source=src,target=/src (echo x > /src/new 2>/dev/null && echo writable || echo read-only) > /ro',
        'RUN --mount=type=bind,source=src,target=/src,rw echo changed > /src/a.txt && cat /src/a.txt > /rw',
        'RUN --mount=type=bind,source=src,target=/src cat /src/a.txt > /after',
      ].join('\n') + '\n',
      'src/a.txt': 'original\n',
    });
    const archive = join(session.dir, 'bind.tar');
    const built = await session.tsbuild(['build', '-q', '-o', `type=oci,dest=${archive}`, context]);
    expect(built.status, built.stderr).toBe(0);
    const { listing } = await session.list(archive);
    const size = (path: string) => listing.find((l: string) => l.startsWith(`${path} `))?.split(' ')[4];
    expect(size('/ro')).toBe(String('read-only\n'.length));
    expect(size('/rw')).toBe(String('changed\n'.length));
    expect(size('/after')).toBe(String('original\n'.length));
    expect(listing.some((l: string) => l.startsWith('/src'))).toBe(false);
    expect(readFileSync(join(context, 'src/a.txt'), 'utf8')).toBe('original\n');
  });
});
