#!/usr/bin/env bash
# Build one image variant with BuildKit:  build.sh VARIANT IMAGE
#   VARIANT   cpu or cuda: a target of docker/Dockerfile, with docker/requirements/VARIANT.txt
#   IMAGE     repository name, e.g. rucka/deeplearning; tags VARIANT, VARIANT-DATE (and latest for cpu)
# Environment:
#   BASE_IMAGE   what the Dockerfile starts FROM (default: its pinned digest); made locally if unpullable
#   ASSETS       asset profile baked in: upstream (default) or standin (see docker/assets/manifest.toml)
#   CA_BUNDLE    a PEM bundle for HTTPS behind an intercepting proxy; given to pip as a BuildKit
#                secret, never written into a layer
#   EXTRA_BUILD_ARGS  more `docker build` arguments (e.g. --no-cache, --progress=plain)
set -euo pipefail

variant=${1:?usage: build.sh VARIANT IMAGE}
image=${2:?usage: build.sh VARIANT IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dockerfile="$top/docker/Dockerfile"
[ -f "$top/docker/requirements/$variant.txt" ] || { echo "build: error: unknown variant '$variant' (cpu or cuda)" >&2; exit 1; }

"$here/engine.sh"

default_base=$(python3 "$here/dockerfile.py" arg BASE_IMAGE "$dockerfile")
base=$("$here/base-image.sh" "${BASE_IMAGE:-$default_base}")

args=(--target "$variant" --build-arg "VARIANT=$variant" --build-arg "BASE_IMAGE=$base" --build-arg "ASSETS=${ASSETS:-upstream}")
if [ -n "${CA_BUNDLE:-}" ]; then
  [ -r "$CA_BUNDLE" ] || { echo "build: error: CA_BUNDLE=$CA_BUNDLE is not a readable file" >&2; exit 1; }
  args+=(--secret "id=ca,src=$CA_BUNDLE")
fi

# One label per direct requirement, its version read from the lock: `docker inspect` tells
# what is inside without running the image.
while IFS='=' read -r name version; do
  args+=(--label "io.github.rucka.deeplearning.lib.${name,,}=$version")
done < <(python3 "$top/docker/rootfs/usr/local/lib/deeplearning/dl_lock.py" labels \
           "$top/docker/requirements/$variant.in" "$top/docker/requirements/$variant.txt")

date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rev=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$rev" != unknown ] && [ -n "$(git -C "$top" status --porcelain 2>/dev/null)" ]; then rev="$rev-dirty"; fi
version="${date%%T*}"
tags=(-t "$image:$variant" -t "$image:$variant-$version")
[ "$variant" = cpu ] && tags+=(-t "$image:latest")

start=$(date +%s)
# shellcheck disable=SC2086  # EXTRA_BUILD_ARGS is a list of words on purpose
DOCKER_BUILDKIT=1 docker build -f "$dockerfile" "${args[@]}" "${tags[@]}" \
  --build-arg "BUILD_DATE=$date" --build-arg "VCS_REF=$rev" --build-arg "IMAGE_VERSION=$version" \
  ${EXTRA_BUILD_ARGS:-} "$top"
echo "build: $image:$variant built in $(( $(date +%s) - start )) s, $(docker image inspect -f '{{.Size}}' "$image:$variant" | awk '{printf "%.2f GB", $1/1e9}')" >&2

# Builds leave dangling images and cache behind: drop the dangling images, cap the cache.
docker image prune -f >/dev/null
docker builder prune -f --keep-storage "${BUILD_CACHE_KEEP:-25GB}" >/dev/null
