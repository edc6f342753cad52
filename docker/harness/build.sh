#!/usr/bin/env bash
# Build one image variant for one platform with BuildKit:  build.sh VARIANT IMAGE [PLATFORM]
#   VARIANT   cpu or cuda: a target of docker/Dockerfile, with docker/requirements/VARIANT-ARCH.txt
#   IMAGE     repository name, e.g. rucka/deeplearning
#   PLATFORM  linux/amd64 or linux/arm64 (default: the engine's own). Another architecture than the
#             engine's is built under qemu emulation (make engine sets it up).
# Tags: IMAGE:VARIANT-ARCH always; for the engine's own platform also IMAGE:VARIANT,
# IMAGE:VARIANT-DATE (and IMAGE:latest for cpu): the names `docker run` users type.
# Environment:
#   BASE_IMAGE   what the Dockerfile starts FROM (default: its pinned digest); made locally if unpullable
#   ASSETS       asset profile baked in: upstream (default) or standin (see docker/assets/manifest.toml)
#   CA_BUNDLE    a PEM bundle for HTTPS behind an intercepting proxy; given to uv and pip as a BuildKit
#                secret, never written into a layer. Unset: when this host trusts a CA that the
#                public bundle lacks (an intercepting proxy), the host's bundle is used, said in one line
#   DEBIAN_SNAPSHOT  install the apt locks from snapshot.debian.org as Debian's archive was at a
#                time (20261130T012815Z), or `lock`: when `make lock` made them
#                (docker/requirements/locked-at.txt). A past release rebuilds after its pinned
#                versions have left Debian's mirror
#   VENV_FRESH   any new value rebuilds the Python venv with no layer cache (CI: every run)
#   EXTRA_BUILD_ARGS  more `docker build` arguments (e.g. --no-cache, --progress=plain)
# Reproducible: SOURCE_DATE_EPOCH is the locks' time (every file a RUN makes gets it), the image's
# created date its commit's; two builds of a commit give the same files (bench/bench_reproducible.py).
set -euo pipefail

variant=${1:?usage: build.sh VARIANT IMAGE [PLATFORM]}
image=${2:?usage: build.sh VARIANT IMAGE [PLATFORM]}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dockerfile="$top/docker/Dockerfile"
[ -f "$top/docker/requirements/$variant.in" ] || { echo "build: error: unknown variant '$variant' (cpu or cuda)" >&2; exit 1; }

"$here/engine.sh" ${3:+"$3"}
native=linux/$(docker version -f '{{.Server.Arch}}')
platform=${3:-$native}
arch=${platform#linux/}
lock="$top/docker/requirements/$variant-$arch.txt"
[ -f "$lock" ] || { echo "build: error: no $variant image for $platform (no lock $variant-$arch.txt): the CUDA image is linux/amd64 only" >&2; exit 1; }

default_base=$(python3 "$here/dockerfile.py" arg BASE_IMAGE "$dockerfile")
base=$("$here/base-image.sh" "${BASE_IMAGE:-$default_base}" "$platform")
# The build stage runs on this machine's platform: the same base, for it (a local one has one platform).
build_base=$base
[ "$platform" = "$native" ] || build_base=$("$here/base-image.sh" "${BASE_IMAGE:-$default_base}" "$native")

locked_at=$(grep -v '^#' "$top/docker/requirements/locked-at.txt" | head -n 1)
snapshot=${DEBIAN_SNAPSHOT:-}
[ "$snapshot" = lock ] && snapshot=$(date -u -d "$locked_at" +%Y%m%dT%H%M%SZ)
args=(--platform "$platform" --target "$variant" --build-arg "VARIANT=$variant" --build-arg "BASE_IMAGE=$base"
      --build-arg "BUILD_BASE_IMAGE=$build_base" --build-arg "ASSETS=${ASSETS:-upstream}"
      --build-arg "SOURCE_DATE_EPOCH=$(date -u -d "$locked_at" +%s)"
      --build-arg "BASE_IMAGE_ID=$(docker image inspect -f '{{.Id}}' "$base")")
[ -z "$snapshot" ] || args+=(--build-arg "DEBIAN_SNAPSHOT=$snapshot")
[ -z "${VENV_FRESH:-}" ] || args+=(--build-arg "VENV_FRESH=$VENV_FRESH")
ca=${CA_BUNDLE:-$("$here/proxy-ca.sh" || true)}
if [ -n "$ca" ]; then
  [ -r "$ca" ] || { echo "build: error: CA_BUNDLE=$ca is not a readable file" >&2; exit 1; }
  args+=(--secret "id=ca,src=$ca")
fi

# One label per direct requirement, its version read from the lock: `docker inspect` tells
# what is inside without running the image.
while IFS='=' read -r name version; do
  args+=(--label "io.github.rucka.deeplearning.lib.${name,,}=$version")
done < <(python3 "$top/src/dlkit/lock.py" labels \
           "$top/docker/requirements/$variant.in" "$lock" "$arch")

rev=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
date=$(TZ=UTC git -C "$top" log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
if [ "$rev" != unknown ] && [ -n "$(git -C "$top" status --porcelain 2>/dev/null)" ]; then rev="$rev-dirty"; fi
version="${date%%T*}"
tags=(-t "$image:$variant-$arch")
if [ "$platform" = "$native" ]; then
  tags+=(-t "$image:$variant" -t "$image:$variant-$version")
  [ "$variant" = cpu ] && tags+=(-t "$image:latest")
fi

start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086  # EXTRA_BUILD_ARGS is a list of words on purpose
if ! DOCKER_BUILDKIT=1 docker build -f "$dockerfile" "${args[@]}" "${tags[@]}" \
     --build-arg "BUILD_DATE=$date" --build-arg "VCS_REF=$rev" --build-arg "IMAGE_VERSION=$version" \
     ${EXTRA_BUILD_ARGS:-} "$top" 2> >(tee "$log" >&2); then
  if grep -q "CERTIFICATE_VERIFY_FAILED\|SSLCertVerificationError\|certificate verify failed" "$log"; then
    echo "build: error: HTTPS certificates were refused (an intercepting proxy?): build again with CA_BUNDLE=/path/to/the-proxy-ca.pem" >&2
  fi
  exit 1
fi
# The SBOM's sha256 as a label (docker inspect): read off the built image, then the same layers
# tagged again with one more label (the image's ID changes, its layers do not).
sbom=/usr/local/share/deeplearning/sbom.cdx.json
cid=$(docker create --platform "$platform" "$image:$variant-$arch")
sbom_sha=$(docker cp "$cid:$sbom" - | tar -xO | sha256sum | cut -d' ' -f1)
docker rm "$cid" >/dev/null
printf 'FROM %s\nLABEL io.github.rucka.deeplearning.sbom.sha256=%s\n' "$image:$variant-$arch" "$sbom_sha" \
  | DOCKER_BUILDKIT=1 docker build -q --platform "$platform" "${tags[@]}" - >/dev/null
echo "build: $image:$variant-$arch built in $(( $(date +%s) - start )) s, $(docker image inspect -f '{{.Size}}' "$image:$variant-$arch" | awk '{printf "%.2f GB", $1/1e9}')" >&2

# Builds leave dangling images and cache behind: drop the dangling images, cap the cache.
docker image prune -f >/dev/null
docker builder prune -f --keep-storage "${BUILD_CACHE_KEEP:-25GB}" >/dev/null
