"""`make publish` against a real registry on 127.0.0.1: :cpu is one tag for linux/amd64 and
linux/arm64, version tags never change, and what users pull (by tag, by digest, per platform)
runs. Prints the release figures: publish time, pull time, time to ./retrain.sh's first line."""

import json
import os
import re
import subprocess
import time

import pytest
from support.containers import REPO, docker
from support.images import REPOSITORY, image_id

PUBLISH = str(REPO / "docker" / "harness" / "publish.sh")
NAME = REPOSITORY.rsplit("/", 1)[-1]


# The CPU images only: the CUDA image's 7 GB push adds minutes and no other path (bench_release times it).
ENV = {**os.environ, "VARIANTS": "cpu"}


@pytest.fixture(scope="module")
def published(registry, built):
    t = time.monotonic()
    p = subprocess.run(
        [PUBLISH, f"{registry}/rucka", REPOSITORY], capture_output=True, text=True, timeout=3600, env=ENV
    )
    assert p.returncode == 0, p.stderr[-3000:]
    print(f"\npublish (amd64 + arm64) to the local registry: {time.monotonic() - t:.0f} s")
    digests = dict(line.split() for line in p.stdout.splitlines())
    version = re.search(r"version (\S+)", p.stderr).group(1)
    return {
        "repo": f"{registry}/rucka/{NAME}",
        "digests": digests,
        "version": version,
        "stdout": p.stdout,
        "stderr": p.stderr,
    }


def raw(ref):
    return json.loads(docker("buildx", "imagetools", "inspect", "--raw", ref).stdout)


def test_cpu_and_latest_are_one_tag_for_two_platforms(published):
    repo = published["repo"]
    index = raw(f"{repo}:cpu")
    assert index["mediaType"] in (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
    platforms = {f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index["manifests"]}
    assert platforms == {"linux/amd64", "linux/arm64"}
    d = published["digests"]
    assert d[f"{repo}:cpu"] == d[f"{repo}:latest"] == d[f"{repo}:cpu-{published['version']}"]
    # Each platform's manifest is the image built here (its config digest is the local image ID).
    for m in index["manifests"]:
        arch = m["platform"]["architecture"]
        manifest = raw(f"{repo}@{m['digest']}")
        assert manifest["config"]["digest"] == image_id(f"{REPOSITORY}:cpu-{arch}")


def test_it_says_where_each_pushed_image_s_sbom_is(published, built):
    for arch in built:
        local = f"{REPOSITORY}:cpu-{arch}"
        sha = docker(
            "image", "inspect", "-f", '{{index .Config.Labels "io.github.rucka.deeplearning.sbom.sha256"}}', local
        ).stdout.strip()
        assert len(sha) == 64
        assert (
            f"publish: SBOM of {published['repo']}:cpu-{arch}: /usr/local/share/deeplearning/sbom.cdx.json in the "
            f"image (dl-versions --sbom), sha256 {sha}"
        ) in published["stderr"].splitlines()


def test_publishing_again_changes_no_digest(published, registry):
    p = subprocess.run(
        [PUBLISH, f"{registry}/rucka", REPOSITORY], capture_output=True, text=True, timeout=3600, env=ENV
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert dict(line.split() for line in p.stdout.splitlines()) == published["digests"]


def test_a_version_tag_is_never_overwritten(published, registry, built):
    """Another image already under this version's tag in a registry: publish refuses, pushes nothing."""
    other = f"{registry}/other/{NAME}:cpu-{published['version']}-amd64"
    docker("tag", f"{REPOSITORY}:cpu-arm64", other)  # an image, but not the amd64 one
    docker("push", other, timeout=1800)
    before = raw(other)
    p = subprocess.run([PUBLISH, f"{registry}/other", REPOSITORY], capture_output=True, text=True, timeout=600, env=ENV)
    assert p.returncode == 1
    assert (
        p.stderr.strip()
        .splitlines()[-1]
        .startswith(f"publish: error: {other} exists in the registry with other content")
    )
    assert raw(other) == before
    # Both platforms' version tags are checked before any push: the arm64 image did not go up either.
    for tag in (f"cpu-{published['version']}-arm64", "cpu-arm64", "cpu"):
        assert docker("buildx", "imagetools", "inspect", f"{registry}/other/{NAME}:{tag}", check=False).returncode


def laptop_id(laptop, ref):
    return docker(*laptop, "image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()


def test_a_pull_of_cpu_is_the_engine_s_platform_or_the_one_asked_for(published, built, laptop):
    """Into an engine that never had the image, as users pull: the same tag, either platform."""
    ref = f"{published['repo']}:cpu"
    assert docker(*laptop, "image", "ls", "-q").stdout.split() == []
    for platform, arch, machine in ((None, "amd64", "x86_64"), ("linux/arm64", "arm64", "aarch64")):
        t = time.monotonic()
        docker(*laptop, "pull", "-q", *(["--platform", platform] if platform else []), ref, timeout=1800)
        print(
            f"\npull {ref}{' (' + platform + ')' if platform else ''} into an empty engine: {time.monotonic() - t:.1f} s"
        )
        assert laptop_id(laptop, ref) == built[arch]
        p = docker(
            *laptop,
            "run",
            "--rm",
            "--network",
            "none",
            *(["--platform", platform] if platform else []),
            ref,
            "python",
            "-c",
            "import platform, tensorflow; print(platform.machine())",
            timeout=900,
        )
        assert p.stdout.split()[-1] == machine


def test_a_pull_by_digest_runs_retrain(published, built, laptop):
    """What the README tells users to pin: name@sha256:... of the index; the engine takes its platform."""
    ref = f"{published['repo']}@{published['digests'][published['repo'] + ':cpu']}"
    t = time.monotonic()
    docker(*laptop, "pull", "-q", ref, timeout=1800)  # the amd64 layers are there from the test above
    assert laptop_id(laptop, ref) == built["amd64"]
    proc = subprocess.Popen(
        ["docker", *laptop, "run", "--rm", "--network", "none", ref, "./retrain.sh", "--how_many_training_steps", "50"],
        stdout=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    print(
        f"\npull by digest (layers present), then docker run to ./retrain.sh's first line: {time.monotonic() - t:.1f} s"
    )
    rest = proc.stdout.read()
    assert proc.wait(timeout=900) == 0
    assert re.search(r"^Final test accuracy = \d+\.\d% \(N=\d+\)$", first + rest, re.M)
