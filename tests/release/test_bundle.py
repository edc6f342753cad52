"""`make bundle`, the offline workshop's USB stick: one archive per platform that `docker load`
takes, named as users type it (rucka/deeplearning:cpu), with SHA256SUMS; loaded into an engine that
has never had the image, it runs the demo with no network."""

import hashlib
import json
import re
import subprocess
import time

import pytest
from support.containers import REPO, docker
from support.images import ARCHES, REPOSITORY

BUNDLE = str(REPO / "docker" / "harness" / "bundle.sh")
NAME = REPOSITORY.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def bundle(built, tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    t = time.monotonic()
    p = subprocess.run([BUNDLE, str(dist), REPOSITORY], capture_output=True, text=True, timeout=3600)
    assert p.returncode == 0, p.stderr[-3000:]
    print(f"\nbundle written in {time.monotonic() - t:.0f} s:\n{p.stdout}")
    return dist


def test_the_checksums_hold(bundle):
    p = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted(line.split()[1] for line in (bundle / "SHA256SUMS").read_text().splitlines()) == sorted(
        [f"{NAME}-cpu-{a}.tar.gz" for a in ARCHES] + [f"{NAME}-cpu-{a}.sbom.json" for a in ARCHES]
    )


@pytest.mark.parametrize("arch", ARCHES)
def test_each_archive_has_its_image_s_sbom_beside_it(bundle, arch):
    """The file beside the archive is the one in the image, as the image's label says."""
    sbom = bundle / f"{NAME}-cpu-{arch}.sbom.json"
    labels = json.loads(docker("image", "inspect", f"{REPOSITORY}:cpu-{arch}").stdout)[0]["Config"]["Labels"]
    assert hashlib.sha256(sbom.read_bytes()).hexdigest() == labels["io.github.rucka.deeplearning.sbom.sha256"]
    bom = json.loads(sbom.read_text())
    platform = {p["name"]: p["value"] for p in bom["metadata"]["component"]["properties"]}
    assert bom["bomFormat"] == "CycloneDX" and platform["io.github.rucka.deeplearning:platform"] == f"linux/{arch}"


@pytest.mark.parametrize("arch", ARCHES)
def test_an_archive_loads_into_an_engine_without_the_image_and_runs_offline(bundle, built, laptop, arch):
    if docker(*laptop, "image", "ls", "-q").stdout.split():  # the other platform's, loaded before
        docker(*laptop, "rmi", "-f", f"{REPOSITORY}:cpu", f"{REPOSITORY}:latest")
    assert docker(*laptop, "image", "ls", "-q").stdout.split() == []
    t = time.monotonic()
    p = docker(*laptop, "load", "-i", str(bundle / f"{NAME}-cpu-{arch}.tar.gz"), timeout=1800)
    print(f"\ndocker load ({arch}) into an empty engine: {time.monotonic() - t:.0f} s")
    assert sorted(re.findall(r"Loaded image: (\S+)", p.stdout)) == [f"{REPOSITORY}:cpu", f"{REPOSITORY}:latest"]
    assert docker(*laptop, "image", "inspect", "-f", "{{.Id}}", f"{REPOSITORY}:cpu").stdout.strip() == built[arch]
    if arch == "amd64":  # the demo, as `make demo` runs it, offline
        demo = docker(
            *laptop,
            "run",
            "--rm",
            "--network",
            "none",
            f"{REPOSITORY}:cpu",
            "./demo.sh",
            "--how_many_training_steps",
            "100",
            timeout=900,
        )
        assert re.search(r"^Final test accuracy = \d+\.\d% \(N=\d+\)$", demo.stdout, re.M)
        assert len(re.findall(r"^  [a-z ]+ \d\.\d+", demo.stdout, re.M)) >= 4  # one image of each class labelled
    else:  # under emulation here (the same image passed the smoke subset: make test-arm64)
        p = docker(
            *laptop,
            "run",
            "--rm",
            "--network",
            "none",
            "--platform",
            "linux/arm64",
            f"{REPOSITORY}:cpu",
            "uname",
            "-m",
            timeout=900,
        )
        assert p.stdout.strip() == "aarch64"
