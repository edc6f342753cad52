#!/usr/bin/env bash
# Publish the built images to a registry:  publish.sh REGISTRY [IMAGE]
#   REGISTRY  host[:port]/namespace, e.g. docker.io/rucka or 127.0.0.1:5000/rucka
#   IMAGE     the local repository the images were built as (default rucka/deeplearning)
#
# Pushed as REGISTRY/NAME (NAME: IMAGE's last part, deeplearning):
#   :cpu and :latest   one multi-platform tag (an OCI index / manifest list): linux/amd64 and
#                      linux/arm64, each engine pulls its own
#   :cuda              linux/amd64 (when IMAGE:cuda was built)
#   :cpu-VERSION, :cuda-VERSION, :cpu-VERSION-ARCH  immutable: pushing one that exists with other
#                      content is refused. VERSION is the git tag (v1.2.0 -> 1.2.0) when HEAD has
#                      one, else DATE-REVISION of the images' build
# Needs IMAGE:cpu-amd64 and IMAGE:cpu-arm64 (make build; make build-arm64). Prints each tag's
# digest: pin one with `docker pull REGISTRY/NAME:cpu@sha256:...`.
# Environment: VARIANTS (default "cpu cuda"; cuda is skipped when not built).
set -euo pipefail

registry=${1:?usage: publish.sh REGISTRY [IMAGE]   e.g. publish.sh 127.0.0.1:5000/rucka}
image=${2:-rucka/deeplearning}
repo="${registry%/}/${image##*/}"
here=$(cd "$(dirname "$0")" && pwd)
log() { printf 'publish: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

"$here/engine.sh" >/dev/null

label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1"; }
# The digest of a tag in the registry, or nothing when the registry has no such tag.
remote_digest() { docker buildx imagetools inspect --format '{{json .Manifest}}' "$1" 2>/dev/null \
                    | python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])' 2>/dev/null || true; }
# An immutable tag: pushed when the registry lacks it, kept when it holds the same image (same
# config digest, i.e. image ID), refused when it holds another.
immutable() {
  local src=$1 dst=$2 raw have
  raw=$(docker buildx imagetools inspect --raw "$dst" 2>/dev/null) || raw=""
  if [ -n "$raw" ]; then
    have=$(python3 -c 'import json, sys; print(json.load(sys.stdin).get("config", {}).get("digest", ""))' <<<"$raw")
    [ "$have" = "$(docker image inspect -f '{{.Id}}' "$src")" ] \
      || die "$dst exists in the registry with other content: versions are immutable (build and publish a new one)"
    return 0
  fi
  docker tag "$src" "$dst"
  docker push -q "$dst" >/dev/null
}

for arch in amd64 arm64; do
  docker image inspect "$image:cpu-$arch" >/dev/null 2>&1 \
    || die "$image:cpu-$arch is not built: make build$([ $arch = arm64 ] && echo -arm64)"
  [ "$(docker image inspect -f '{{.Architecture}}' "$image:cpu-$arch")" = "$arch" ] \
    || die "$image:cpu-$arch is not an $arch image"
done
if tag=$(git -C "$here" describe --tags --exact-match 2>/dev/null); then
  version=${tag#v}
else
  version="$(label "$image:cpu-amd64" org.opencontainers.image.version)-$(label "$image:cpu-amd64" org.opencontainers.image.revision)"
fi
for arch in amd64 arm64; do
  rev=$(label "$image:cpu-$arch" org.opencontainers.image.revision)
  [ "$rev" = "$(label "$image:cpu-amd64" org.opencontainers.image.revision)" ] \
    || die "$image:cpu-amd64 and $image:cpu-$arch were built from different revisions: build both again"
done

start=$(date +%s)
index_tags=()
log "$repo: version $version"
for arch in amd64 arm64; do
  immutable "$image:cpu-$arch" "$repo:cpu-$version-$arch"
  docker tag "$image:cpu-$arch" "$repo:cpu-$arch"
  docker push -q "$repo:cpu-$arch" >/dev/null
done
# One tag, two platforms: an index of the two images already in the registry (no re-upload).
# (:cpu-VERSION once: its two images were checked above to be the ones in the registry.)
[ -n "$(remote_digest "$repo:cpu-$version")" ] || index_tags=(-t "$repo:cpu-$version")
docker buildx imagetools create "${index_tags[@]}" -t "$repo:cpu" -t "$repo:latest" \
  "$repo:cpu-$version-amd64" "$repo:cpu-$version-arm64" >/dev/null
if [[ " ${VARIANTS:-cpu cuda} " == *" cuda "* ]] && docker image inspect "$image:cuda" >/dev/null 2>&1; then
  immutable "$image:cuda" "$repo:cuda-$version"
  docker tag "$image:cuda" "$repo:cuda"
  docker push -q "$repo:cuda" >/dev/null
fi
log "pushed in $(( $(date +%s) - start )) s"
for t in cpu latest "cpu-$version" cpu-amd64 cpu-arm64 cuda "cuda-$version"; do
  d=$(remote_digest "$repo:$t")
  if [ -n "$d" ]; then printf '%-40s %s\n' "$repo:$t" "$d"; fi
done
