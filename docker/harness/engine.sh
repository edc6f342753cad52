#!/usr/bin/env bash
# Make sure a Docker engine answers, with BuildKit (docker buildx) and Compose v2.
#
# On a machine that already has them (Docker Desktop, a configured server) this only checks.
# On a fresh Debian machine where we are root (CI, a new cloud VM) it provisions them:
#   - Debian's docker.io (engine 20.10, containerd, runc),
#   - docker-buildx and docker-compose taken from Debian 13 (they need only libc6 >= 2.34),
#   - starts dockerd in the background when no init system runs it.
# Anything else gets one line that says what to do.
set -euo pipefail

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}

log() { printf 'engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

can_provision() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# Fetch packages from Debian 13 into a private apt state, so the host's sources stay untouched.
install_from_trixie() {
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  printf 'deb %s trixie main\n' "$DEBIAN_MIRROR" >"$tmp/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" -qq update
  (cd "$tmp/debs" && apt-get "${opts[@]}" -qq download "$@")
  dpkg -i "$tmp"/debs/*.deb >/dev/null
  rm -rf "$tmp"
}

if ! command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  can_provision || die "no Docker engine here: install Docker (https://docs.docker.com/engine/install/) and start it"
  log "installing Debian's docker.io"
  apt-get -qq update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io iptables ca-certificates >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  can_provision || die "the Docker daemon does not answer: start it (Docker Desktop, or 'sudo systemctl start docker')"
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "dockerd did not start; last lines of $DOCKERD_LOG: $(tail -n 3 "$DOCKERD_LOG" | tr '\n' ' ')"
fi

missing=()
docker buildx version >/dev/null 2>&1 || missing+=(docker-buildx)
docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  can_provision || die "missing ${missing[*]}: install Docker's buildx and compose plugins"
  log "installing ${missing[*]} from Debian 13"
  install_from_trixie "${missing[@]}"
  docker buildx version >/dev/null 2>&1 || die "docker buildx still does not work after installing it"
  docker compose version >/dev/null 2>&1 || die "docker compose still does not work after installing it"
fi

log "ready: engine $(docker version -f '{{.Server.Version}}'), $(docker buildx version | cut -d' ' -f1-2), compose $(docker compose version --short)"
