// The base images every builder starts from, made once and cached under .cache/bench/:
//   busybox     the busybox rootfs of fixtures/base/make-busybox-rootfs.sh
//   debian-gcc  `debootstrap --variant=minbase --include=gcc,libc6-dev,make bookworm` from
//               the Debian mirror (minutes the first time, then cached)
// Each as a rootfs tarball (for `docker import`) and an OCI layout tarball made with umoci
// (for `tsbuild load` and `buildah pull oci-archive:`), so every builder gets the same bytes.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/process.js';

const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
/** Docker's default PATH; the images carry it so every builder finds gcc and make alike. */
export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The image name a workload's Dockerfile uses in FROM for each base. */
export const BASE_NAMES = { busybox: 'busybox', 'debian-gcc': 'bench-debian-gcc' };

/** Returns { rootfsTar, ociTar } of a base, making it when it is not cached yet. */
export function ensureBase(repo, base) {
  const dir = join(repo, '.cache/bench/bases', base);
  const rootfsTar = join(dir, 'rootfs.tar');
  const ociTar = join(dir, 'image.oci.tar');
  if (existsSync(ociTar)) return { rootfsTar, ociTar };
  mkdirSync(dir, { recursive: true });
  const rootfs = join(dir, 'rootfs');
  if (!existsSync(rootfsTar)) {
    rmSync(rootfs, { recursive: true, force: true });
    if (base === 'busybox') {
      run('bash', [join(repo, 'fixtures/base/make-busybox-rootfs.sh'), rootfs]);
    } else {
      debootstrap(rootfs);
    }
    run('tar', ['--sort=name', '--numeric-owner', '--mtime=@0', '-C', rootfs, '-cf', `${rootfsTar}.tmp`, '.']);
    renameSync(`${rootfsTar}.tmp`, rootfsTar);
  }
  ociLayout(rootfsTar, ociTar, join(dir, 'layout'));
  rmSync(rootfs, { recursive: true, force: true });
  return { rootfsTar, ociTar };
}

/** True when the base is cached (quick runs do not spend minutes making the Debian one). */
export function baseCached(repo, base) {
  return existsSync(join(repo, '.cache/bench/bases', base, 'image.oci.tar'));
}

function debootstrap(rootfs) {
  if (!existsSync('/usr/sbin/debootstrap')) {
    throw new Error('the debian-gcc base needs debootstrap: run `bash scripts/peers.sh` (or apt-get install debootstrap)');
  }
  const temp = `${rootfs}.debootstrap`;
  rmSync(temp, { recursive: true, force: true });
  console.error('bench: making the debian-gcc base with debootstrap (a few minutes, once)');
  run('debootstrap', ['--variant=minbase', '--include=gcc,libc6-dev,make', 'bookworm', temp, DEBIAN_MIRROR]);
  // Downloaded .debs are not part of the system; every builder would copy them for nothing.
  rmSync(join(temp, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(temp, 'var/cache/apt/archives/partial'), { recursive: true });
  renameSync(temp, rootfs);
}

function ociLayout(rootfsTar, ociTar, layout) {
  rmSync(layout, { recursive: true, force: true });
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:latest`]);
  run('umoci', ['raw', 'add-layer', '--image', `${layout}:latest`, rootfsTar]);
  run('umoci', ['config', '--image', `${layout}:latest`, '--config.cmd', 'sh', '--config.env', `PATH=${BASE_PATH}`, '--created', '1970-01-01T00:00:00Z']);
  run('tar', ['--sort=name', '--numeric-owner', '--mtime=@0', '-C', layout, '-cf', `${ociTar}.tmp`, '.']);
  renameSync(`${ociTar}.tmp`, ociTar);
  rmSync(layout, { recursive: true, force: true });
}
