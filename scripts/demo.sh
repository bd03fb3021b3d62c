#!/usr/bin/env bash
# The README's first command: set up from a clean clone, make a busybox base image, build
# examples/hello with it, and run the result. Safe to run again (the second build is cached).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

tsbuild() { node bin/tsbuild.js "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo
echo "==> Making the busybox base image from Debian's busybox-static"
bash fixtures/base/make-busybox-rootfs.sh "$work/rootfs" >/dev/null
# The base image is itself a tsbuild build: the root filesystem copied into an empty image.
cat > "$work/busybox.Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY / /
CMD ["sh"]
DOCKERFILE
tsbuild build --progress plain -q -t busybox:latest -f "$work/busybox.Dockerfile" "$work/rootfs"

echo
echo "==> tsbuild build -t hello examples/hello"
tsbuild build -t hello examples/hello

echo
echo "==> tsbuild build -t hello examples/hello   (again: every step is cached)"
tsbuild build --progress plain -t hello examples/hello

echo
echo "==> The image: tsbuild images, and its config"
tsbuild images
tsbuild inspect hello | node -e '
  const image = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const { User, Cmd, Labels } = image.config.config;
  console.log(JSON.stringify({ digest: image.descriptor.digest, User, Cmd, Labels, layers: image.manifest.layers.length }, null, 2));'

echo
echo "==> Running it: the image exported as an OCI archive, unpacked with umoci, its CMD run in a chroot"
tsbuild build -q -t hello -o "type=oci,dest=$work/hello.oci.tar" examples/hello >/dev/null
mkdir "$work/layout"
tar -xf "$work/hello.oci.tar" -C "$work/layout"
umoci unpack --image "$work/layout:latest" "$work/bundle" >/dev/null
chroot --userspec=65534:65534 "$work/bundle/rootfs" /bin/sh -c 'cd / && PATH=/usr/local/bin:/bin hello'
