#!/usr/bin/env bash
# The offline workshop bundle:  bundle.sh DIST [IMAGE]
# Writes, per platform, one compressed archive that `docker load -i` takes on Docker Desktop
# (macOS, Windows) and Linux engines, and SHA256SUMS beside them; prints their sizes.
#   DIST/deeplearning-cpu-amd64.tar.gz   Intel/AMD laptops and Windows (WSL 2)
#   DIST/deeplearning-cpu-arm64.tar.gz   Apple-silicon Macs, arm64 Linux
#   DIST/deeplearning-cpu-ARCH.sbom.json  each image's SBOM (CycloneDX JSON), taken out of the image
# Loaded, each is IMAGE:cpu and IMAGE:latest, the names the README's commands use.
# Needs IMAGE:cpu-amd64 and IMAGE:cpu-arm64 (make build; make build-arm64). Uses pigz when present.
# gzip level 6: the amd64 archive is 980 MB, under the 1,000 MB a workshop's download may take;
# level 3 made it 6 % larger. Measured here (single-threaded gzip, stand-in profile): level 3 64 s,
# level 6 136 s, of a 3.05 GB docker save; pigz spreads it over the cores. docker load takes the
# same time for either.
set -euo pipefail

dist=${1:?usage: bundle.sh DIST [IMAGE]}
image=${2:-rucka/deeplearning}
here=$(cd "$(dirname "$0")" && pwd)
gzip=gzip
command -v pigz >/dev/null 2>&1 && gzip=pigz
mkdir -p "$dist"
for arch in amd64 arm64; do
  docker image inspect "$image:cpu-$arch" >/dev/null 2>&1 \
    || { echo "bundle: error: $image:cpu-$arch is not built: make build$([ $arch = arm64 ] && echo -arm64)" >&2; exit 1; }
done
start=$(date +%s)
for arch in amd64 arm64; do
  out="$dist/${image##*/}-cpu-$arch.tar.gz"
  docker save "$image:cpu-$arch" | "$here/retag-save.py" "$image:cpu" "$image:latest" | "$gzip" -6 >"$out.part"
  mv "$out.part" "$out"
  cid=$(docker create --platform "linux/$arch" "$image:cpu-$arch")
  docker cp "$cid:$(docker image inspect -f '{{index .Config.Labels "io.github.rucka.deeplearning.sbom"}}' "$image:cpu-$arch")" - \
    | tar -xO >"$dist/${image##*/}-cpu-$arch.sbom.json"
  docker rm "$cid" >/dev/null
done
(cd "$dist" && sha256sum "${image##*/}"-cpu-*.tar.gz "${image##*/}"-cpu-*.sbom.json >SHA256SUMS)
echo "bundle: written in $(( $(date +%s) - start )) s (check with: cd $dist && sha256sum -c SHA256SUMS)" >&2
for arch in amd64 arm64; do
  f="$dist/${image##*/}-cpu-$arch.tar.gz"
  printf '%s  %s (image %s)\n' "$(du -h --apparent-size "$f" | cut -f1)" "$f" \
    "$(docker image inspect -f '{{.Size}}' "$image:cpu-$arch" | awk '{printf "%.2f GB", $1/1e9}')"
done
