// The builders under test, behind one small interface so that every workload and case runs
// the same way on each:
//   unavailable        null, or why this builder cannot run here (printed, never silent)
//   prepare(base)      make the base image available under its FROM name (outside timings)
//   reset(base)        an empty build cache holding only that base (outside timings)
//   build(ctx, tag)    → { ms, digest, maxRssMB? }
//   export(ctx, tag, file)  an OCI (or the builder's own) image tarball → { ms, bytes }
// tsbuild alone also has archive(ctx, file) and replay(file) when its CLI offers them.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, run } from '../lib/process.js';
import { BASE_NAMES, BASE_PATH } from './bases.js';

export const DOCKER_SOCKET = '/tmp/tsbuild-bench-docker/docker.sock';
const BUILDAH_STORAGE = '/var/tmp/tsbuild-bench-buildah';

/** tsbuild, run as a whole CLI process per build (`node bin/tsbuild.js`), from dist/. */
export function tsbuild({ repo, cli, work, bases }) {
  const env = { PATH: process.env.PATH };
  const root = join(work, 'tsbuild-store');
  const help = spawnSync(process.execPath, [cli, 'build', '--help'], { encoding: 'utf8' }).stdout ?? '';
  const commands = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout ?? '';
  const cmd = (args) => [cli, '--root', root, ...args];
  /** A store holding only the base, loaded once and reused while dist/ is unchanged. */
  const template = (base) => {
    const dir = join(repo, '.cache/bench/tsbuild-templates', base);
    const marker = join(dir, '.loaded');
    const built = statSync(join(cli, '../../dist/index.js')).mtimeMs;
    if (existsSync(marker) && statSync(marker).mtimeMs > built) return dir;
    rmSync(dir, { recursive: true, force: true });
    run(process.execPath, [cli, '--root', dir, 'load', bases[base].ociTar, '-t', `${BASE_NAMES[base]}:latest`], { env });
    // The other builders unpack a base when they import it; tsbuild on first use. One step
    // run here unpacks it, so that cold builds time the build and not the import.
    const unpack = join(dir, '.unpack');
    mkdirSync(unpack);
    writeFileSync(join(unpack, 'Dockerfile'), `FROM ${BASE_NAMES[base]}\nRUN true\n`);
    run(process.execPath, [cli, '--root', dir, 'build', '-q', unpack], { env });
    rmSync(unpack, { recursive: true });
    writeFileSync(marker, '');
    return dir;
  };
  return {
    name: 'tsbuild',
    unavailable: existsSync(join(cli, '../../dist/index.js')) ? null : 'dist/ is missing: run `npm run build`',
    version: run(process.execPath, [cli, 'version'], { env }).trim(),
    archiveUnavailable: help.includes('--archive') && /tsbuild replay/.test(commands)
      ? null
      : 'this tsbuild has no `build --archive` / `replay` yet',
    prepare: (base) => void template(base),
    reset(base) {
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root);
      const from = template(base);
      // Blobs and snapshots are content-addressed and never written in place: hard links
      // spare copying a Debian base for every cold build. cp, not fs.cpSync: snapshots hold
      // device nodes.
      for (const entry of readdirSync(from)) {
        const immutable = entry === 'blobs' || entry === 'snapshots';
        run('cp', [immutable ? '-al' : '-a', join(from, entry), join(root, entry)]);
      }
    },
    build(ctx, tag) {
      const r = measure(process.execPath, cmd(['build', '-q', '-t', tag, ctx]), { env });
      return { ms: r.ms, digest: r.stdout.trim(), maxRssMB: r.maxRssMB };
    },
    export(ctx, tag, file) {
      const r = measure(process.execPath, cmd(['build', '-q', '-t', tag, '-o', `type=oci,dest=${file}`, ctx]), { env });
      return { ms: r.ms, bytes: statSync(file).size, maxRssMB: r.maxRssMB };
    },
    archive(ctx, tag, file) {
      const r = measure(process.execPath, cmd(['build', '-q', '-t', tag, '--archive', file, ctx]), { env });
      return { ms: r.ms, bytes: statSync(file).size, maxRssMB: r.maxRssMB };
    },
    replay(file) {
      const fresh = join(work, 'tsbuild-replay-store');
      rmSync(fresh, { recursive: true, force: true });
      const r = measure(process.execPath, [cli, '--root', fresh, 'replay', file], { env });
      return { ms: r.ms, maxRssMB: r.maxRssMB, output: r.stdout.trim().split('\n').pop() };
    },
  };
}

/** dockerd's built-in BuildKit on the suite's private socket (scripts/peers.sh starts it). */
export function docker({ bases, work }) {
  const env = { PATH: process.env.PATH, DOCKER_HOST: `unix://${DOCKER_SOCKET}`, DOCKER_BUILDKIT: '1' };
  const docker = (args) => run('/usr/bin/docker', args, { env });
  const probe = existsSync('/usr/bin/docker')
    ? spawnSync('/usr/bin/docker', ['version', '-f', '{{.Server.Version}}'], { encoding: 'utf8', env })
    : null;
  const tags = new Set();
  const iid = join(work, 'docker.iid');
  return {
    name: 'docker',
    unavailable: probe?.status === 0 ? null : `no dockerd answers on ${DOCKER_SOCKET}: run \`bash scripts/peers.sh\``,
    version: probe?.stdout.trim(),
    prepare(base) {
      const name = `${BASE_NAMES[base]}:latest`;
      const present = spawnSync('/usr/bin/docker', ['image', 'inspect', name], { env }).status === 0;
      if (!present) docker(['import', '--change', 'CMD ["sh"]', '--change', `ENV PATH=${BASE_PATH}`, bases[base].rootfsTar, name]);
    },
    reset() {
      if (tags.size) docker(['image', 'rm', '-f', ...tags]);
      tags.clear();
      docker(['builder', 'prune', '-af']);
    },
    build(ctx, tag) {
      tags.add(tag);
      const r = measure('/usr/bin/docker', ['build', '--network', 'none', '-q', '--iidfile', iid, '-t', tag, ctx], { env });
      return { ms: r.ms, digest: readFileSync(iid, 'utf8').trim() };
    },
    export(_ctx, tag, file) {
      // dockerd's builder cannot write an OCI layout (that needs a docker-container
      // BuildKit); `docker save` writes its own image tarball, the nearest equivalent.
      const r = measure('/usr/bin/docker', ['save', '-o', file, tag], { env });
      return { ms: r.ms, bytes: statSync(file).size };
    },
  };
}

/** buildah bud with chroot isolation and layer caching, in a storage of its own. */
export function buildah({ bases, work }) {
  const storage = ['--root', join(BUILDAH_STORAGE, 'root'), '--runroot', join(BUILDAH_STORAGE, 'run'), '--storage-driver', 'overlay'];
  const buildah = (args) => run('/usr/bin/buildah', [...storage, ...args]);
  const tags = new Set();
  const iid = join(work, 'buildah.iid');
  return {
    name: 'buildah',
    unavailable: existsSync('/usr/bin/buildah') ? null : 'buildah is not installed: run `bash scripts/peers.sh`',
    version: existsSync('/usr/bin/buildah') ? run('/usr/bin/buildah', ['--version']).split(' ')[2] : undefined,
    prepare(base) {
      mkdirSync(BUILDAH_STORAGE, { recursive: true });
      const name = `docker.io/library/${BASE_NAMES[base]}:latest`;
      const present = spawnSync('/usr/bin/buildah', [...storage, 'inspect', '--type', 'image', name]).status === 0;
      if (!present) {
        const id = buildah(['pull', '-q', `oci-archive:${bases[base].ociTar}`]).trim();
        buildah(['tag', id, name]);
      }
    },
    reset() {
      if (tags.size) buildah(['rmi', '-f', ...tags]);
      tags.clear();
      // The unnamed images `--layers` left are its cache; working containers of multi-stage
      // builds can hold some of them.
      buildah(['rm', '--all']);
      buildah(['rmi', '--prune']);
    },
    build(ctx, tag) {
      tags.add(tag);
      const r = measure('/usr/bin/buildah', [...storage, 'bud', '--isolation', 'chroot', '--layers', '--pull-never', '-q', '--iidfile', iid, '-t', tag, ctx]);
      return { ms: r.ms, digest: readFileSync(iid, 'utf8').trim() };
    },
    export(_ctx, tag, file) {
      rmSync(file, { force: true });
      // -D: uncompressed layers, as tsbuild writes them.
      const r = measure('/usr/bin/buildah', [...storage, 'push', '-q', '-D', tag, `oci-archive:${file}:latest`]);
      return { ms: r.ms, bytes: statSync(file).size };
    },
  };
}
