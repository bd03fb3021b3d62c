// Hostile roots: base images whose /proc, /dev, /dev/null or /etc files are symlinks to host
// paths, WORKDIRs through symlinks to / or to a host dir, mount targets that a previous step
// (or a racing one) turned into symlinks. The helper refuses or stays inside the root; the
// host canaries are never read, written, chmod-ed or created. Also: the step's layer (the
// upper dir) receives nothing but the step's own changes, and hundreds of lowers stack.

import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Scratch, buildNative, hostIsClean, hostTmpMounts, modesToTest, runStep, sh, stepSpec, type Mode } from './harness.js';

buildNative();
const scratch = new Scratch();
const mountsBefore = hostTmpMounts();
afterAll(() => scratch.dispose());

/** Host files and dirs a hostile image points at; `state()` must not change. */
function makeCanaries(name: string) {
  const dir = scratch.mkdir(`${name}-canary-dir`);
  const file = join(scratch.dir, `${name}-canary-file`);
  writeFileSync(file, 'host canary\n', { mode: 0o600 });
  const state = () => ({
    entries: readdirSync(dir),
    dir: (({ mode, mtimeMs, uid }) => ({ mode, mtimeMs, uid }))(statSync(dir)),
    file: (({ mode, mtimeMs, size, uid }) => ({ mode, mtimeMs, size, uid }))(statSync(file)),
    atime: statSync(file).atimeMs,
  });
  return { dir, file, state };
}

/** A layer dir built with the given symlinks and dirs. */
function layer(name: string, build: { dirs?: string[]; links?: Record<string, string> }): string {
  const root = scratch.mkdir(`layer-${name}`);
  for (const dir of build.dirs ?? []) mkdirSync(join(root, dir), { recursive: true });
  for (const [path, target] of Object.entries(build.links ?? {})) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  return root;
}

describe.each(modesToTest())('hostile roots ($name)', (mode: Mode) => {
  it('a base image with /proc and /dev as symlinks to host dirs', async () => {
    const canary = makeCanaries(`procdev-${mode.name}`);
    const before = canary.state();
    const hostile = layer(`procdev-${mode.name}`, { links: { proc: canary.dir, dev: canary.dir, sys: canary.dir } });
    const r = await sh(scratch, mode, 'test -r /proc/self/status && test -c /dev/null && echo x > /dev/null && echo ok', {
      lowerDirs: [mode.rootfs(), hostile],
    });
    expect(r.failure).toBeUndefined();
    expect(r.stdout).toBe('ok\n');
    expect(canary.state()).toEqual(before);
  });

  it('a base image with /dev/null and /etc files as symlinks to a host file', async () => {
    const canary = makeCanaries(`devnull-${mode.name}`);
    const before = canary.state();
    const hostile = layer(`devnull-${mode.name}`, {
      links: {
        'dev/null': canary.file,
        'dev/zero': canary.file,
        'etc/hosts': canary.file,
        'etc/hostname': canary.file,
        'etc/resolv.conf': canary.file,
      },
    });
    const r = await sh(
      scratch,
      mode,
      'echo pwned > /dev/null; echo pwned > /etc/hosts; chmod 777 /dev/null /etc/resolv.conf; cat /etc/hostname; test -c /dev/null && echo char-device',
      { lowerDirs: [mode.rootfs(), hostile], hostname: 'inside' },
    );
    expect(r.stdout).toBe('inside\nchar-device\n');
    expect(r.stderr + r.stdout).not.toContain('host canary');
    expect(canary.state()).toEqual(before);
  });

  it('WORKDIR through `ln -s / /evil` or a symlink to a host dir stays inside the root', async () => {
    const target = scratch.mkdir(`workdir-target-${mode.name}`);
    const first = await sh(scratch, mode, `ln -s / /evil && ln -s ${target} /hostlink`);
    expect(first.exitCode).toBe(0);
    const lowers = [mode.rootfs(), first.spec.upperDir];
    for (const cwd of [`/evil${target}/escaped`, '/hostlink/escaped', `/evil/evil${target}/x`]) {
      const r = await runStep(mode, stepSpec(scratch, mode, ['/bin/sh', '-c', 'pwd; touch made-here'], { lowerDirs: lowers, cwd }));
      expect(r.failure, `${cwd}: ${r.stderr}`).toBeUndefined();
      expect(readdirSync(target)).toEqual([]);
      // The dirs were made inside the step's layer, where the symlink leads inside the root.
      const inside = cwd.replace(/^(\/evil)+/, '').replace(/^\/hostlink/, target);
      expect(existsSync(join(r.spec.upperDir, inside, 'made-here')), inside).toBe(true);
    }
  });

  it('mount targets that are symlinks to / or to host paths never redirect a mount outside', async () => {
    const canary = makeCanaries(`targets-${mode.name}`);
    const before = canary.state();
    const mountsBeforeStep = hostTmpMounts();
    const hostile = layer(`targets-${mode.name}`, {
      links: { cache: canary.dir, cache2: '/', 'opt/file': canary.file, deep: `../../../../..${canary.dir}` },
    });
    const shared = scratch.mkdir(`targets-shared-${mode.name}`, mode);
    const r = await sh(
      scratch,
      mode,
      `echo in > /cache/x; echo in > /deep/y; grep -c -E ' /(cache|cache2/mnt|deep|opt/file) ' /proc/self/mountinfo`,
      {
        lowerDirs: [mode.rootfs(), hostile],
        mounts: [
          { type: 'tmpfs', target: '/cache' },
          { type: 'bind', source: shared, target: '/cache2/mnt' },
          { type: 'bind', source: canary.file, target: '/opt/file', readonly: true },
          { type: 'tmpfs', target: '/deep' },
        ],
      },
    );
    expect(r.failure, r.stderr).toBeUndefined();
    expect(r.stdout).toBe('4\n');
    expect(canary.state().entries).toEqual(before.entries);
    expect(canary.state().dir).toEqual(before.dir);
    expect(canary.state().file).toEqual(before.file);
    expect(hostTmpMounts()).toEqual(mountsBeforeStep);
  });

  it('a mount target raced between a dir and a symlink to a host dir stays inside the root', async () => {
    const canary = makeCanaries(`race-${mode.name}`);
    const before = canary.state();
    const shared = scratch.mkdir(`race-shared-${mode.name}`, mode);
    const racer = spawn('sh', ['-c', `cd ${shared} && while :; do mkdir d 2>/dev/null; rmdir d 2>/dev/null; ln -s ${canary.dir} d 2>/dev/null; rm -f d; done`], {
      stdio: 'ignore',
    });
    try {
      for (let i = 0; i < 15; i++) {
        const r = await sh(scratch, mode, 'touch /shared/d/x 2>/dev/null; true', {
          mounts: [
            { type: 'bind', source: shared, target: '/shared' },
            { type: 'tmpfs', target: '/shared/d' },
          ],
        });
        expect([undefined, 'setup']).toContain(r.failure?.kind);
      }
    } finally {
      racer.kill('SIGKILL');
    }
    expect(canary.state().entries).toEqual(before.entries);
    expect(canary.state().dir).toEqual(before.dir);
  });
});

describe.each(modesToTest())('the step layer ($name)', (mode: Mode) => {
  it('receives no mount-point stubs: a step that changes nothing leaves the upper dir empty', async () => {
    const data = scratch.mkdir(`data-${mode.name}`);
    const conf = join(scratch.dir, `conf-${mode.name}`);
    writeFileSync(conf, 'x');
    const r = await sh(scratch, mode, 'test -f /etc/x.conf && test -d /opt/data && test -d /a/b && ls /etc/hosts >/dev/null', {
      mounts: [
        { type: 'tmpfs', target: '/a/b' },
        { type: 'bind', source: conf, target: '/etc/x.conf', readonly: true },
        { type: 'bind', source: data, target: '/opt/data', readonly: true },
      ],
    });
    expect(r.failure, r.stderr).toBeUndefined();
    expect(readdirSync(r.spec.upperDir)).toEqual([]);
  });

  it('copies a directory up with the image metadata, not the skeleton one', async () => {
    const r = await sh(scratch, mode, 'echo x > /etc/new-file');
    expect(r.failure).toBeUndefined();
    expect(readdirSync(r.spec.upperDir)).toEqual(['etc']);
    const image = lstatSync(join(mode.rootfs(), 'etc'));
    const copied = lstatSync(join(r.spec.upperDir, 'etc'));
    expect(copied.mode).toBe(image.mode);
    if (mode.name === 'root') expect([copied.uid, copied.gid]).toEqual([image.uid, image.gid]);
  });

  it('holds the whole diff: a renamed image dir is copied, a chown-ed file keeps its data', async () => {
    const r = await sh(scratch, mode, 'mv /usr/bin /usr/bin2 && chown 5 /bin/busybox');
    expect(r.failure, r.stderr).toBeUndefined();
    const image = readdirSync(join(mode.rootfs(), 'usr/bin')).sort();
    expect(readdirSync(join(r.spec.upperDir, 'usr/bin2')).sort()).toEqual(image);
    expect(lstatSync(join(r.spec.upperDir, 'usr/bin')).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(r.spec.upperDir, 'bin/busybox')).size).toBe(lstatSync(join(mode.rootfs(), 'bin/busybox')).size);
  });

  it('runs over an empty root (no lower dirs)', async () => {
    const r = await runStep(mode, stepSpec(scratch, mode, ['/probe', 'cwd'], { lowerDirs: [], cwd: '/made' }));
    expect(r.failure, r.stderr).toBeUndefined();
    expect(r.stdout).toBe('/made\n');
  });

  it('stacks 300 lower dirs, the last one on top', async () => {
    const lowers = [mode.rootfs()];
    for (let i = 0; i < 300; i++) {
      const dir = scratch.mkdir(`many-${mode.name}/${i}/layers`);
      writeFileSync(join(dir, `f${i}`), '');
      writeFileSync(join(dir, 'order'), `${i}\n`);
      lowers.push(join(dir, '..'));
    }
    const r = await sh(scratch, mode, 'ls /layers | wc -l; cat /layers/order', { lowerDirs: lowers });
    expect(r.failure, r.stderr).toBeUndefined();
    expect(r.stdout).toBe('301\n299\n');
    expect(existsSync(join(r.spec.upperDir, 'layers'))).toBe(false);
  });
});

describe('the host afterwards', () => {
  it('has no leftover mounts, cgroups or step processes', () => {
    expect(hostIsClean(mountsBefore)).toEqual({ mounts: [], cgroups: [], inits: [] });
  });
});
