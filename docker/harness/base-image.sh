#!/usr/bin/env bash
# Print the reference of a base image that is in the local engine, making it if need be.
#
#   base-image.sh IMAGE_REF [PLATFORM]   e.g. debian:bookworm-slim@sha256:... linux/arm64
#
# 1. IMAGE_REF can be pulled for PLATFORM (default: the engine's own): print IMAGE_REF (the
#    pinned digest users get; BuildKit pulls the platform it builds for).
# 2. Otherwise (no registry: CI here, an air-gapped site) use a local image of the same release
#    for that platform, local/debian:bookworm-slim-ARCH, making it when missing: debootstrap
#    --variant=minbase of the same release (another architecture runs under qemu: make engine),
#    trimmed the way the official -slim image is, then imported by a `FROM scratch` build for that
#    platform (`docker import` records the engine's own architecture). Print that name.
# Progress goes to stderr; stdout carries only the reference.
set -euo pipefail

ref=${1:?usage: base-image.sh IMAGE_REF [PLATFORM]}
platform=${2:-linux/$(docker version -f '{{.Server.Arch}}')}
arch=${platform#linux/}
name=${ref%@*}
tag="local/${name##*/}-$arch"
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf 'base-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$ref" 2>/dev/null)" = "$platform" ] \
   || timeout 120 docker pull -q --platform "$platform" "$ref" >/dev/null 2>&1; then
  echo "$ref"
  exit 0
fi
if docker image inspect "$tag" >/dev/null 2>&1; then
  log "cannot pull $ref for $platform; using the local $tag"
  echo "$tag"
  exit 0
fi

log "cannot pull $ref for $platform; making $tag locally with debootstrap ($suite $arch from $mirror)"
[ "$(id -u)" = 0 ] || die "making the base image needs root (debootstrap); or run 'docker pull $ref' where a registry is reachable"
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

root=$(mktemp -d)
trap 'rm -rf "$root" "$root.log"' EXIT
debootstrap --arch="$arch" --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
  || die "debootstrap failed: $(tail -n 2 "$root.log" | tr '\n' ' ')"

# What the official -slim image does: no docs/man/locales on later installs, clean apt caches.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CFG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
printf 'Acquire::GzipIndexes "true";\n' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
printf 'APT::AutoRemove::SuggestsImportant "false";\n' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/locale" "$root/usr/share/lintian" \
  -mindepth 1 -not -name locale.alias -delete 2>/dev/null || true
# Links of alternatives to the manual pages just deleted: apt would delete them at the image's first
# install, each a whiteout in that layer.
find "$root/etc/alternatives" -type l -lname '/usr/share/man/*' -delete
# What the engine mounts over in every container and build step: empty, as in the official image,
# not this machine's (debootstrap copies its resolv.conf and hostname); present, so that no build
# step makes and removes a mount point in /etc.
for f in hosts resolv.conf hostname; do : >"$root/etc/$f" && chmod 0644 "$root/etc/$f"; done
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/log/* "$root"/tmp/*
printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
  "$mirror" "$suite" "$mirror" "$suite" "$suite" >"$root/etc/apt/sources.list"

ctx=$(mktemp -d)
trap 'rm -rf "$root" "$root.log" "$ctx"' EXIT
tar --numeric-owner -C "$root" -cf "$ctx/rootfs.tar" .
printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' \
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["bash"]' >"$ctx/Dockerfile"
DOCKER_BUILDKIT=1 docker build -q --platform "$platform" -t "$tag" \
  --label "org.opencontainers.image.description=debootstrap --variant=minbase $suite: local stand-in for $ref" \
  "$ctx" >/dev/null
log "made $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "$tag"
