// A user's first session with tsbuild: load a base image, build a multi-stage app, look at
// the image, build again (all cached), change one file (only what depends on it runs again).

import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/events.js';
import { testdir, writeTree } from '../helpers/testdir.js';
import { openSession, stepOutcomes, type Session } from './session.js';

const USERS_RUN = "RUN echo 'svc:x:1234:2000::/home/svc:/bin/sh' >> /etc/passwd && echo 'svc:x:2000:' >> /etc/group";

const APP_DOCKERFILE = `FROM busybox AS build
WORKDIR /src
COPY app/ ./
RUN cat main.txt lib.txt > bundle.txt && echo built > /built-marker

FROM busybox
RUN echo 'svc:x:1234:2000::/home/svc:/bin/sh' >> /etc/passwd && echo 'svc:x:2000:' >> /etc/group
COPY --from=build /src/bundle.txt /opt/app/
COPY --chown=svc:svc --chmod=0750 run.sh /opt/app/run.sh
ENV MODE=production
USER svc
WORKDIR /home/svc/data
EXPOSE 8080/tcp
LABEL org.example.team=builders
CMD ["/opt/app/run.sh"]
`;

function appContext(parent: string): string {
  const dir = join(parent, 'app-context');
  writeTree(dir, {
    Dockerfile: APP_DOCKERFILE,
    '.dockerignore': 'app/*.log\n',
    'app/main.txt': 'main\n',
    'app/lib.txt': 'lib v1\n',
    'app/debug.log': 'noise\n',
    'run.sh': '#!/bin/sh\ncat /opt/app/bundle.txt\n',
  });
  return dir;
}

describe('tsbuild build: a multi-stage app on busybox', () => {
  let session: Session;
  let context: string;
  let firstDigest: string;

  beforeAll(async () => {
    session = await openSession();
  });
  afterAll(() => session.close());

  it('builds the image: files, modes, owners and config as the Dockerfile says', async () => {
    context = appContext(session.dir);
    const archive = join(session.dir, 'app.tar');
    const built = await session.buildJson(['-t', 'app:1', '-o', `type=oci,dest=${archive}`, context]);
    expect(built.status, built.stderr).toBe(0);
    const done = built.events.find((e) => e.type === 'build.done');
    expect(done).toMatchObject({ type: 'build.done', stepsCached: expect.any(Number), image: { names: ['app:1'] } });
    firstDigest = done?.type === 'build.done' ? done.image!.digest : '';

    const { listing, config } = await session.list(archive);
    expect(listing).toContain('/opt/app dir 0755 0:0');
    expect(listing.find((l: string) => l.startsWith('/opt/app/bundle.txt '))).toMatch(/^\/opt\/app\/bundle\.txt file 0644 0:0 12 sha256:/);
    expect(listing.find((l: string) => l.startsWith('/opt/app/run.sh '))).toMatch(/^\/opt\/app\/run\.sh file 0750 1234:2000 /);
    expect(listing).toContain('/home/svc/data dir 0755 1234:2000');
    expect(listing.some((l: string) => l.startsWith('/built-marker'))).toBe(false);
    expect(listing.find((l: string) => l.startsWith('/etc/passwd '))).toBeDefined();
    expect(config).toMatchObject({
      User: 'svc',
      WorkingDir: '/home/svc/data',
      Cmd: ['/opt/app/run.sh'],
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.example.team': 'builders' },
    });
    expect(config.Env).toContain('MODE=production');

    const inspected = await session.tsbuild(['inspect', 'app:1']);
    expect(inspected.status, inspected.stderr).toBe(0);
    const image = JSON.parse(inspected.stdout).config;
    expect(image.created).toBe('1970-01-01T00:00:00Z');
    expect(image.history.map((h: { created_by: string }) => h.created_by).slice(-9)[0]).toMatch(/etc\/passwd/);
    expect(image.history.filter((h: { empty_layer?: boolean }) => h.empty_layer).map((h: { created_by: string }) => h.created_by.split(' ')[0]))
      .toEqual(expect.arrayContaining(['ENV', 'USER', 'EXPOSE', 'LABEL', 'CMD']));
    expect(image.rootfs.diff_ids).toHaveLength(JSON.parse(inspected.stdout).manifest.layers.length);
  });

  it('builds again with every step cached and the same digest', async () => {
    const again = await session.buildJson(['-t', 'app:1', context]);
    expect(again.status, again.stderr).toBe(0);
    const { ran, cached } = stepOutcomes(again.events);
    expect(ran).toEqual([]);
    expect(cached).toHaveLength(12);
    expect(again.events.some((e) => e.type === 'step.start')).toBe(false);
    const done = again.events.find((e) => e.type === 'build.done');
    expect(done?.type === 'build.done' && done.image?.digest).toBe(firstDigest);
  });

  it('-q prints only the image digest on stdout', async () => {
    const quiet = await session.tsbuild(['build', '-q', context]);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe(`${firstDigest}\n`);
    expect(quiet.stderr).toBe('');
  });

  it('a file excluded by .dockerignore changes nothing', async () => {
    writeFileSync(join(context, 'app/debug.log'), 'other noise\n');
    const again = await session.buildJson([context]);
    expect(stepOutcomes(again.events).ran).toEqual([]);
  });

  it('one changed source file re-runs exactly the steps after the COPY that reads it', async () => {
    writeFileSync(join(context, 'app/lib.txt'), 'lib v2\n');
    const changed = await session.buildJson(['-t', 'app:2', context]);
    expect(changed.status, changed.stderr).toBe(0);
    const { ran, cached } = stepOutcomes(changed.events);
    expect(ran).toEqual([
      'COPY app/ ./',
      'RUN cat main.txt lib.txt > bundle.txt && echo built > /built-marker',
      'COPY --from=build /src/bundle.txt /opt/app/',
      'COPY --chown=svc:svc --chmod=0750 run.sh /opt/app/run.sh',
      'ENV MODE=production',
      'USER svc',
      'WORKDIR /home/svc/data',
      'EXPOSE 8080/tcp',
      'LABEL org.example.team=builders',
      'CMD ["/opt/app/run.sh"]',
    ]);
    expect(cached).toContain('WORKDIR /src');
    expect(cached).toContain(USERS_RUN);
    const archive = join(session.dir, 'app2.tar');
    const exported = await session.tsbuild(['build', '-q', '-o', `type=oci,dest=${archive}`, context]);
    expect(exported.status).toBe(0);
    expect((await session.list(archive)).listing.find((l: string) => l.startsWith('/opt/app/bundle.txt '))).toMatch(/ 0644 0:0 12 /);
  });

  it('--no-cache runs every layer step again and still gives the same image', async () => {
    const fresh = await session.buildJson(['--no-cache', context]);
    expect(fresh.status, fresh.stderr).toBe(0);
    const { ran } = stepOutcomes(fresh.events);
    expect(ran).toEqual(expect.arrayContaining(['WORKDIR /src', USERS_RUN]));
    const cachedBuild = await session.buildJson([context]);
    const digest = (events: typeof fresh.events) => events.flatMap((e) => (e.type === 'build.done' ? [e.image?.digest] : []))[0];
    expect(digest(fresh.events)).toBe(digest(cachedBuild.events));
  });

  it('--no-cache-filter runs the steps of the named stages again, and only those', async () => {
    const filtered = await session.buildJson(['--no-cache-filter', 'build', context]);
    expect(filtered.status, filtered.stderr).toBe(0);
    const { ran, cached } = stepOutcomes(filtered.events);
    expect(ran.slice(0, 3)).toEqual(['WORKDIR /src', 'COPY app/ ./', 'RUN cat main.txt lib.txt > bundle.txt && echo built > /built-marker']);
    // The final stage's layer steps stay cached: the re-run stage made the same bundle.
    expect(cached).toEqual(expect.arrayContaining([USERS_RUN, 'COPY --from=build /src/bundle.txt /opt/app/', 'WORKDIR /home/svc/data']));
    const unknown = await session.buildJson(['--no-cache-filter=nosuchstage,1', context]);
    expect(unknown.status, unknown.stderr).toBe(0);
    expect(unknown.events).toContainEqual(expect.objectContaining({ type: 'warning', message: '--no-cache-filter names stage "nosuchstage", which this build does not use' }));
    expect(stepOutcomes(unknown.events).ran).toContain(USERS_RUN);
  });

  it('--dry-run prints the plan with the base image config and builds nothing', async () => {
    const plan = await session.tsbuild(['build', '--dry-run', '-t', 'never', context]);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('stage #0 build: FROM busybox');
    expect(plan.stdout).toContain('COPY --chown=svc:svc --chmod=0750 run.sh /opt/app/run.sh');
    expect(plan.stdout).toMatch(/cmd \["\/opt\/app\/run\.sh"\]/);
    expect((await session.tsbuild(['inspect', 'never'])).status).not.toBe(0);
  });

  it('-o type=docker writes an archive skopeo reads, with --iidfile and --metadata-file', async () => {
    const archive = join(session.dir, 'app.docker.tar');
    const iid = join(session.dir, 'iid');
    const meta = join(session.dir, 'meta.json');
    const built = await session.tsbuild(['build', '-q', '-t', 'app:docker', '-o', `type=docker,dest=${archive}`, '--iidfile', iid, '--metadata-file', meta, context]);
    expect(built.status, built.stderr).toBe(0);
    const { execFileSync } = await import('node:child_process');
    const inspected = JSON.parse(execFileSync('skopeo', ['--insecure-policy', 'inspect', `docker-archive:${archive}`], { encoding: 'utf8' }));
    expect(inspected.Env).toContain('MODE=production');
    expect(readFileSync(iid, 'utf8')).toBe(built.stdout.trim());
    expect(JSON.parse(readFileSync(meta, 'utf8'))).toMatchObject({ 'containerimage.digest': built.stdout.trim(), 'image.name': 'app:docker' });
  });

  it('step output split inside a UTF-8 character arrives whole in the log events', async () => {
    const ctx = testdir({ Dockerfile: "FROM busybox\nRUN printf 'caf\\303'; sleep 0.2; printf '\\251\\n'\n" });
    const built = await session.buildJson(['--no-cache', ctx]);
    expect(built.status, built.stderr).toBe(0);
    const logged = built.events.flatMap((e) => (e.type === 'step.log' ? [e.data] : []));
    expect(logged.join('')).toBe('café\n');
    expect(logged.some((text) => text.includes('\uFFFD'))).toBe(false);
  });

  it('RUN has only loopback by default; --network host opts out', async () => {
    const ctx = testdir({ Dockerfile: "FROM busybox\nRUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /interfaces\n" });
    const interfaces = async (...flags: string[]) => {
      const archive = join(session.dir, `net${flags.length}.tar`);
      const built = await session.tsbuild(['build', '-q', '--no-cache', ...flags, '-o', `type=oci,dest=${archive}`, ctx]);
      expect(built.status, built.stderr).toBe(0);
      return (await session.list(archive)).listing.find((l: string) => l.startsWith('/interfaces '));
    };
    expect(await interfaces()).toMatch(/^\/interfaces file 0644 0:0 3 /);
    expect(await interfaces('--network', 'host')).not.toMatch(/^\/interfaces file 0644 0:0 3 /);
  });

  it('a step that changes no file makes no layer and is marked empty_layer', async () => {
    const ctx = testdir({ Dockerfile: 'FROM busybox\nRUN true\nWORKDIR /tmp\nRUN echo x > /x\n' });
    const built = await session.tsbuild(['build', '-q', '-t', 'empty-steps', ctx]);
    expect(built.status, built.stderr).toBe(0);
    const { manifest, config } = JSON.parse((await session.tsbuild(['inspect', 'empty-steps'])).stdout);
    const own = config.history.slice(-3);
    expect(own.map((h: { empty_layer?: boolean }) => h.empty_layer ?? false)).toEqual([true, true, false]);
    expect(manifest.layers).toHaveLength(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer).length);
  });

  it('independent stages run side by side: both start before either finishes', async () => {
    const ctx = testdir({
      Dockerfile: 'FROM busybox AS left\nRUN sleep 1 && echo l > /l\nFROM busybox AS right\nRUN sleep 1 && echo r > /r\nFROM busybox\nCOPY --from=left /l /l\nCOPY --from=right /r /r\n',
    });
    const built = await session.buildJson([ctx]);
    expect(built.status, built.stderr).toBe(0);
    const order = built.events.flatMap((e) => (e.type === 'step.start' || e.type === 'step.done') && e.step <= 2 ? [`${e.type}:${e.step}`] : []);
    expect(order.slice(0, 2).sort()).toEqual(['step.start:1', 'step.start:2']);
  });

  it('--max-parallelism 1 runs independent stages one after the other', async () => {
    const ctx = testdir({
      Dockerfile: 'FROM busybox AS left\nRUN sleep 0.3 && echo l > /l\nFROM busybox AS right\nRUN sleep 0.3 && echo r > /r\nFROM busybox\nCOPY --from=left /l /l\nCOPY --from=right /r /r\n',
    });
    const built = await session.buildJson(['--max-parallelism', '1', ctx]);
    expect(built.status, built.stderr).toBe(0);
    // The second RUN starts only once the first (0.3 s of sleep) has ended: a lower bound, whatever the load.
    const starts = built.events.flatMap((e) => (e.type === 'step.start' && e.step <= 2 ? [e.time] : []));
    expect(starts).toHaveLength(2);
    expect(Math.abs(starts[1]! - starts[0]!)).toBeGreaterThanOrEqual(300);
    const bad = await session.tsbuild(['build', '--max-parallelism', '0', ctx]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--max-parallelism must be a positive integer');
  });

  it('RUN sees exactly the recipe environment: no host variables, fixed hostname, umask 022, HOME from passwd', async () => {
    const ctx = testdir({
      Dockerfile: 'FROM busybox\nARG FLAVOUR=plain\nRUN env | sort > /env && hostname > /hostname && umask > /umask && touch /made\n',
    });
    const archive = join(session.dir, 'env.tar');
    const built = await session.tsbuild(['build', '-q', '-t', 'env', '-o', `type=oci,dest=${archive}`, ctx], { env: { LEAKED_HOST_VAR: 'x', SOURCE_DATE_EPOCH: '1700000000' } });
    expect(built.status, built.stderr).toBe(0);
    const dir = join(session.dir, 'env-unpacked');
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('tar', ['-xf', archive, '-C', dir]);
    execFileSync('umoci', ['unpack', '--image', `${dir}:latest`, join(dir, 'bundle')]);
    const read = (file: string) => readFileSync(join(dir, 'bundle/rootfs', file), 'utf8');
    expect(read('env').trim().split('\n')).toEqual(['FLAVOUR=plain', 'HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PWD=/', 'SHLVL=1']);
    expect(read('hostname')).toBe('tsbuild\n');
    expect(read('umask')).toBe('0022\n');
  });
});

describe('tsbuild build: COPY again after one file changed', () => {
  it('links the unchanged files from the previous snapshot, and the image is the one a fresh store builds', async () => {
    const session = await openSession();
    const fresh = await openSession();
    try {
      const context = join(session.dir, 'many-files');
      const files = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`src/f${i}.txt`, `file ${i}\n`]));
      writeTree(context, { Dockerfile: 'FROM busybox\nCOPY src /src\nRUN cat /src/* | wc -l > /lines\n', ...files });
      const copySnapshot = (events: BuildEvent[]) => {
        const done = events.find((e) => e.type === 'step.done' && e.step === 1);
        const diffId = done?.type === 'step.done' ? done.layer?.diffId : undefined;
        return join(session.store, 'snapshots', diffId!.slice('sha256:'.length), 'fs', 'src');
      };
      const first = await session.buildJson([context]);
      expect(first.status, first.stderr).toBe(0);
      writeFileSync(join(context, 'src/f7.txt'), 'file 7, edited\n');
      const second = await session.buildJson([context]);
      expect(second.status, second.stderr).toBe(0);
      const [before, after] = [copySnapshot(first.events), copySnapshot(second.events)];
      expect(after).not.toBe(before);
      const shared = Object.keys(files).map((path) => path.slice('src/'.length)).filter((name) => lstatSync(join(after, name)).ino === lstatSync(join(before, name)).ino);
      expect(shared).toHaveLength(29);
      expect(shared).not.toContain('f7.txt');
      expect(readFileSync(join(after, 'f7.txt'), 'utf8')).toBe('file 7, edited\n');
      expect(readFileSync(join(before, 'f7.txt'), 'utf8')).toBe('file 7\n');

      const elsewhere = await fresh.tsbuild(['build', '-q', context]);
      expect(elsewhere.status, elsewhere.stderr).toBe(0);
      const done = second.events.find((e) => e.type === 'build.done');
      expect(elsewhere.stdout.trim()).toBe(done?.type === 'build.done' ? done.image?.digest : 'no build.done');
    } finally {
      session.close();
      fresh.close();
    }
  });

  it('du counts the linked files once: the snapshots grow by the changed file only', async () => {
    const session = await openSession();
    try {
      const big = 2 << 20;
      const context = join(session.dir, 'big-file');
      writeTree(context, { Dockerfile: 'FROM busybox\nCOPY src /src\n', 'src/big.bin': 'x'.repeat(big), 'src/small.txt': 'v1\n' });
      const build = async () => expect((await session.tsbuild(['build', '-q', '-t', 'app', context])).status).toBe(0);
      const du = async () => JSON.parse((await session.tsbuild(['du', '--format', 'json'])).stdout) as { total: number; snapshots: { count: number; size: number } };
      await build();
      const before = await du();
      writeFileSync(join(context, 'src/small.txt'), 'v2, longer\n');
      await build();
      const after = await du();
      expect(after.snapshots.count).toBe(before.snapshots.count + 1);
      expect(after.snapshots.size - before.snapshots.size).toBe('v2, longer\n'.length);
      // The new layer's blob is a real second copy of big.bin; its snapshot is not.
      expect(after.total - before.total).toBeGreaterThan(big);
      expect(after.total - before.total).toBeLessThan(big * 1.1);
    } finally {
      session.close();
    }
  });
});
