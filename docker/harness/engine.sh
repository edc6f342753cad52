#!/usr/bin/env bash
# Make sure a Docker engine answers, with BuildKit (docker buildx) and Compose v2.
#
# On a machine that already has them (Docker Desktop, a configured server) this only checks.
# On a fresh Debian machine where we are root (CI, a new cloud VM) it provisions them:
#   - Debian's docker.io (engine 20.10, containerd, runc),
#   - docker-buildx and docker-compose taken from Debian 13 (they need only libc6 >= 2.34),
#   - starts dockerd in the background when no init system runs it,
#   - for each PLATFORM given that is not the engine's own (engine.sh linux/arm64): Debian 13's qemu
#     (static, 10.0) registered in binfmt_misc with the F flag, so other architectures' programs run
#     in containers. Debian 12's qemu 7.2 shows them the host's x86 /proc/cpuinfo, on which ONNX
#     Runtime's CPU probe crashes (segfault at import); from 9.1 on qemu shows an arm64 one.
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

# Emulation of another architecture: builds and runs its containers (slowly) on this one.
qemu_current() {  # Debian's qemu-user >= 9.1 (Debian 13): static, and an emulated /proc/cpuinfo
  local version
  version=$(dpkg-query -W -f='${Version}' qemu-user 2>/dev/null) || return 1
  dpkg --compare-versions "$version" ge 1:9.1
}

emulation() {
  local arch=$1 qarch entry conf
  case "$arch" in
    arm64) qarch=aarch64 ;;
    amd64) qarch=x86_64 ;;
    *) die "no emulation known for linux/$arch (amd64 and arm64 are)" ;;
  esac
  entry=/proc/sys/fs/binfmt_misc/qemu-$qarch
  registered() { [ -e "$entry" ] && grep -q '^flags:.*F' "$entry"; }
  if registered && { ! can_provision || qemu_current; }; then return 0; fi
  if ! can_provision || ! [ -d /proc/sys/fs/binfmt_misc ]; then
    log "cannot check emulation of linux/$arch here; if the build fails with 'exec format error', run: docker run --privileged --rm tonistiigi/binfmt --install $arch (Docker Desktop has it built in)"
    return 0
  fi
  if ! qemu_current; then
    log "installing qemu-user from Debian 13 (to build and run linux/$arch)"
    # Debian 12's qemu-user-static (7.2) conflicts with it: removed first, with its registrations.
    if dpkg-query -W -f='${Status}' qemu-user-static 2>/dev/null | grep -q installed; then
      DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq qemu-user-static >/dev/null
    fi
    install_from_trixie qemu-user
  fi
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  # Registered as systemd-binfmt would (no init system here): the package's line, F flag included.
  conf=/usr/share/qemu/binfmt.d/qemu-$qarch.conf
  [ -e "$conf" ] || die "qemu-user has no $conf"
  if [ -e "$entry" ]; then echo -1 >"$entry"; fi
  cat "$conf" >/proc/sys/fs/binfmt_misc/register
  registered || die "qemu-$qarch is not registered in binfmt_misc with the F flag"
  log "emulation of linux/$arch: $(sed -n 's/^interpreter //p' "$entry") ($(dpkg-query -W -f='qemu ${Version}' qemu-user))"
}

native=linux/$(docker version -f '{{.Server.Arch}}')
for platform in "$@"; do
  [ "$platform" = "$native" ] || emulation "${platform#linux/}"
done

log "ready: engine $(docker version -f '{{.Server.Version}}'), $(docker buildx version | cut -d' ' -f1-2), compose $(docker compose version --short)"
