#!/usr/bin/env bash
# Installs the builders the benchmark suite compares tsbuild with (Debian's buildah and
# docker.io, plus debootstrap for the C workload's base) and starts a private dockerd for the
# suite, apart from any other dockerd on the machine. Safe to run again: it installs only what
# is missing and starts dockerd only when its socket does not answer.
#
#   bash scripts/peers.sh          install and start
#   bash scripts/peers.sh stop     stop the suite's dockerd
set -euo pipefail

DOCKER_DIR=/tmp/tsbuild-bench-docker
SOCKET="$DOCKER_DIR/docker.sock"
PACKAGES=(buildah docker.io debootstrap time)

docker_answers() { DOCKER_HOST="unix://$SOCKET" /usr/bin/docker version >/dev/null 2>&1; }

if [ "${1:-}" = stop ]; then
  if [ -f "$DOCKER_DIR/dockerd.pid" ]; then
    kill "$(cat "$DOCKER_DIR/dockerd.pid")" 2>/dev/null || true
    rm -f "$DOCKER_DIR/dockerd.pid"
  fi
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "error: scripts/peers.sh installs Debian packages and starts dockerd: run it as root" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "peers: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker_answers; then
  mkdir -p "$DOCKER_DIR"
  echo "peers: starting dockerd on $SOCKET (log: $DOCKER_DIR/dockerd.log)" >&2
  # No bridge and no iptables rules: builds run with --network none, and the machine's own
  # network setup stays untouched.
  setsid /usr/sbin/dockerd --host "unix://$SOCKET" --data-root "$DOCKER_DIR/data" \
    --exec-root "$DOCKER_DIR/exec" --pidfile "$DOCKER_DIR/dockerd.pid" \
    --bridge=none --iptables=false --ip6tables=false \
    >"$DOCKER_DIR/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker_answers && break
    sleep 0.5
  done
  if ! docker_answers; then
    echo "error: dockerd did not answer on $SOCKET within 30 s; see $DOCKER_DIR/dockerd.log" >&2
    tail -5 "$DOCKER_DIR/dockerd.log" >&2
    exit 1
  fi
fi
echo "peers: buildah $(buildah --version | awk '{print $3}'), docker $(DOCKER_HOST="unix://$SOCKET" /usr/bin/docker version -f '{{.Server.Version}}') on $SOCKET" >&2
