#!/usr/bin/env bash
# Build the classroom hub's image:  build-hub.sh [IMAGE]   (default rucka/deeplearning-hub:latest)
# Same base image and proxy CA handling as build.sh (the image); see deploy/jupyterhub/Dockerfile.
set -euo pipefail
image=${1:-rucka/deeplearning-hub:latest}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dockerfile="$top/deploy/jupyterhub/Dockerfile"
"$here/engine.sh"
base=$("$here/base-image.sh" "${BASE_IMAGE:-$(python3 "$here/dockerfile.py" arg BASE_IMAGE "$dockerfile")}")
args=(--build-arg "BASE_IMAGE=$base")
ca=${CA_BUNDLE:-$("$here/proxy-ca.sh" || true)}
[ -n "$ca" ] && args+=(--secret "id=ca,src=$ca")
start=$(date +%s)
# shellcheck disable=SC2086  # EXTRA_BUILD_ARGS is a list of words on purpose
DOCKER_BUILDKIT=1 docker build -f "$dockerfile" "${args[@]}" -t "$image" ${EXTRA_BUILD_ARGS:-} "$top"
echo "build-hub: $image built in $(( $(date +%s) - start )) s" >&2
docker image prune -f >/dev/null
