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
# An immutable tag: to push when the registry lacks it (returns 0), kept when it holds the same image
# (same config digest, i.e. image ID), refused when it holds another.
absent() {
  local src=$1 dst=$2 raw have
  raw=$(docker buildx imagetools inspect --raw "$dst" 2>/dev/null) || return 0
  have=$(python3 -c 'import json, sys; print(json.load(sys.stdin).get("config", {}).get("digest", ""))' <<<"$raw")
  [ "$have" = "$(docker image inspect -f '{{.Id}}' "$src")" ] \
    || die "$dst exists in the registry with other content: versions are immutable (build and publish a new one)"
  return 1
}
# push SRC DST...: SRC under each name DST; the layers go up once, the other names reuse them.
push() {
  local src=$1 dst
  shift
  for dst in "$@"; do
    docker tag "$src" "$dst"
    docker push -q "$dst" >/dev/null
  done
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
# Every version tag checked before anything is pushed: a refusal leaves the registry as it was.
declare -A names
for arch in amd64 arm64; do
  names[$arch]="$repo:cpu-$arch"
  if absent "$image:cpu-$arch" "$repo:cpu-$version-$arch"; then names[$arch]="$repo:cpu-$version-$arch ${names[$arch]}"; fi
done
cuda=()
if [[ " ${VARIANTS:-cpu cuda} " == *" cuda "* ]] && docker image inspect "$image:cuda" >/dev/null 2>&1; then
  cuda=("$repo:cuda")
  if absent "$image:cuda" "$repo:cuda-$version"; then cuda=("$repo:cuda-$version" "$repo:cuda"); fi
fi
# Both platforms at once: dockerd compresses each image's large layer (the venv) on one core.
pids=()
for arch in amd64 arm64; do
  # shellcheck disable=SC2086  # two names at most, no spaces in them
  push "$image:cpu-$arch" ${names[$arch]} &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || die "a push failed (above)"
# One tag, two platforms: an index of the two images already in the registry (no re-upload).
# (:cpu-VERSION once: its two images were checked above to be the ones in the registry.)
[ -n "$(remote_digest "$repo:cpu-$version")" ] || index_tags=(-t "$repo:cpu-$version")
docker buildx imagetools create "${index_tags[@]}" -t "$repo:cpu" -t "$repo:latest" \
  "$repo:cpu-$version-amd64" "$repo:cpu-$version-arm64" >/dev/null
if [ ${#cuda[@]} -gt 0 ]; then push "$image:cuda" "${cuda[@]}"; fi
log "pushed in $(( $(date +%s) - start )) s"
for t in cpu latest "cpu-$version" cpu-amd64 cpu-arm64 cuda "cuda-$version"; do
  d=$(remote_digest "$repo:$t")
  if [ -n "$d" ]; then printf '%-40s %s\n' "$repo:$t" "$d"; fi
done
# Where each pushed image's SBOM is: inside it (dl-versions --sbom), its sha256 in a label. On
# stderr with the other notes: stdout stays one "tag digest" line per tag, for scripts.
sboms=("$image:cpu-amd64" "$image:cpu-arm64")
if [ ${#cuda[@]} -gt 0 ]; then sboms+=("$image:cuda"); fi
for local in "${sboms[@]}"; do
  log "SBOM of $repo:${local##*:}: $(label "$local" io.github.rucka.deeplearning.sbom) in the image" \
    "(dl-versions --sbom), sha256 $(label "$local" io.github.rucka.deeplearning.sbom.sha256)"
done
