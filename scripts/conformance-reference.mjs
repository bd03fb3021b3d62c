#!/usr/bin/env node
// Regenerates the expected results of the conformance suite (fixtures/conformance/<case>/)
// from a real Docker builder: dockerd with its built-in BuildKit (Debian's docker.io), on a
// private socket. CI does not need Docker: the expected files are committed.
//
//   dockerd --host unix:///tmp/dockerd/docker.sock --data-root /tmp/dockerd/data \
//     --exec-root /tmp/dockerd/exec --bridge=none --iptables=false &
//   DOCKER_HOST=unix:///tmp/dockerd/docker.sock node scripts/conformance-reference.mjs [CASE…]
//
// Each case holds a Dockerfile and a context/ folder; `expected.txt` gets the image's
// filesystem changes relative to the busybox base (one line per path, `- path` for a path the
// build removed) followed by the compared config fields. A case with a `reference: docs` line
// in `case.txt` is written by hand from the Dockerfile reference (features newer than the
// BuildKit in Debian's docker.io) and is skipped here. `case.txt` may also hold `target: T`
// and `build-arg: K=V` lines, passed to both builders, and `prebuild: TAG FILE` lines: FILE
// (beside the Dockerfile) is built from the same context and tagged TAG first.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listImage } from '../test/helpers/image-listing.mjs';
import { diffListings, formatExpected } from '../test/helpers/conformance.mjs';

const repo = resolve(import.meta.dirname, '..');
const casesDir = join(repo, 'fixtures/conformance');
const docker = process.env.DOCKER ?? '/usr/bin/docker';
const env = { ...process.env, DOCKER_BUILDKIT: '1' };
const run = (args, opts = {}) => execFileSync(docker, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...opts });

const rootfs = join(repo, '.cache/fixtures/busybox-rootfs');
if (!existsSync(rootfs)) execFileSync('bash', [join(repo, 'fixtures/base/make-busybox-rootfs.sh'), rootfs]);
// The same base the tests use: the busybox rootfs with the config our fixture image has.
execFileSync('sh', ['-c', `tar -C "${rootfs}" -c . | ${docker} import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["sh"]' - busybox:latest`], { env });

const work = mkdtempSync(join(tmpdir(), 'conformance-'));
run(['save', 'busybox:latest', '-o', join(work, 'base.tar')]);
const base = await listImage(join(work, 'base.tar'));

const wanted = process.argv.slice(2);
for (const name of readdirSync(casesDir).sort()) {
  if (wanted.length && !wanted.includes(name)) continue;
  const dir = join(casesDir, name);
  const meta = existsSync(join(dir, 'case.txt')) ? readFileSync(join(dir, 'case.txt'), 'utf8') : '';
  if (/^reference:\s*docs/m.test(meta)) continue;
  const context = existsSync(join(dir, 'context')) ? join(dir, 'context') : work;
  const args = ['build', '--network', 'none', '-f', join(dir, 'Dockerfile'), '-t', `conformance-${name}`, ...caseFlags(meta), context];
  try {
    for (const [, tag, file] of meta.matchAll(/^prebuild:\s*(\S+)\s+(\S+)$/gm)) {
      run(['build', '--network', 'none', '-f', join(dir, file), '-t', tag, context]);
    }
    run(args);
  } catch (error) {
    writeFileSync(join(dir, 'expected.txt'), `error\n${String(error.stderr).split('\n').filter((l) => /error|failed to solve/i.test(l)).slice(-3).join('\n')}\n`);
    console.log(`${name}: fails (recorded)`);
    continue;
  }
  const archive = join(work, `${name}.tar`);
  run(['save', `conformance-${name}`, '-o', archive]);
  const image = await listImage(archive);
  writeFileSync(join(dir, 'expected.txt'), formatExpected(diffListings(base.listing, image.listing), image.config));
  console.log(`${name}: ok`);
}
rmSync(work, { recursive: true, force: true });

/** `case.txt` lines `target: T` and `build-arg: K=V` become build flags. */
function caseFlags(meta) {
  return meta.split('\n').flatMap((line) => {
    const m = /^(target|build-arg):\s*(.+)$/.exec(line.trim());
    return m ? [`--${m[1]}`, m[2]] : [];
  });
}
