"""Local names of the built images, for what ships them (tests/release, bench/bench_release.py):
the repository (IMAGE without its tag), the platforms, image IDs."""

from support.containers import IMAGE, docker

REPOSITORY = IMAGE.rsplit(":", 1)[0] if ":" in IMAGE.rsplit("/", 1)[-1] else IMAGE
ARCHES = ("amd64", "arm64")


def image_id(ref):
    return docker("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()
