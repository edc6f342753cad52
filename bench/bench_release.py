#!/usr/bin/env python3
"""Benchmarks of shipping the image (the README's release figures, not tests): prints a table, writes JSON.

    python3 bench/bench_release.py [--cold-arm64]

- image size per platform, and the CUDA image's when it is built
- make bundle: the compressed archive per platform, and `docker load` of each into an empty engine
- make publish to a fresh registry on 127.0.0.1 (amd64 + arm64, and cuda when built)
- then, into a second, empty engine (an attendee's laptop): pull of :cpu (what a user types), and
  `docker run ... ./retrain.sh` to its first line of output
- --cold-arm64: the arm64 image built again under emulation with --no-cache (every layer cold;
  pip's download cache, a BuildKit cache mount, stays warm)
Needs IMAGE:cpu-amd64 and IMAGE:cpu-arm64 (make build; make build-arm64), and root (the second
engine). Standard library and tests/support only.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("IMAGE", "rucka/deeplearning")
from support.containers import docker  # noqa: E402 (after IMAGE is set)
from support.engine import fresh_engine  # noqa: E402 (after IMAGE is set)
from support.images import ARCHES, REPOSITORY  # noqa: E402 (after IMAGE is set)
from support.registry import local_registry  # noqa: E402 (after IMAGE is set)
from support.results import save_results  # noqa: E402 (after IMAGE is set)

HARNESS = REPO / "docker" / "harness"


def timed(*cmd, **kw):
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode:
        sys.exit(f"bench_release: {' '.join(map(str, cmd))} failed: {p.stderr.strip()[-500:]}")
    return time.monotonic() - t, p


def size_gb(ref):
    return int(docker("image", "inspect", "-f", "{{.Size}}", ref).stdout) / 1e9


def bundle(results):
    dist = Path(tempfile.mkdtemp(prefix="bundle-"))
    results["bundle_write_s"], _ = timed(str(HARNESS / "bundle.sh"), str(dist), REPOSITORY)
    for arch in ARCHES:
        archive = dist / f"{REPOSITORY.rsplit('/', 1)[-1]}-cpu-{arch}.tar.gz"
        results[f"bundle_{arch}_gb"] = archive.stat().st_size / 1e9
        with fresh_engine() as laptop:  # a laptop that never had the image
            results[f"load_{arch}_s"], _ = timed("docker", *laptop, "load", "-i", str(archive))
        archive.unlink()
    (dist / "SHA256SUMS").unlink()
    dist.rmdir()


def publish_pull_run(results):
    with local_registry() as registry:
        results["publish_s"], _ = timed(str(HARNESS / "publish.sh"), f"{registry}/rucka", REPOSITORY)
        ref = f"{registry}/rucka/{REPOSITORY.rsplit('/', 1)[-1]}:cpu"
        with fresh_engine() as laptop:
            t = time.monotonic()
            results["pull_s"], _ = timed("docker", *laptop, "pull", "-q", ref)
            proc = subprocess.Popen(
                [
                    "docker",
                    *laptop,
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    ref,
                    "./retrain.sh",
                    "--how_many_training_steps",
                    "50",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            proc.stdout.readline()
            results["run_to_first_retrain_line_s"] = time.monotonic() - t - results["pull_s"]
            results["pull_to_first_retrain_line_s"] = time.monotonic() - t
            proc.stdout.read()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold-arm64", action="store_true", help="also rebuild the arm64 image with --no-cache")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "release.json"))
    args = ap.parse_args()

    results = {f"image_{arch}_gb": size_gb(f"{REPOSITORY}:cpu-{arch}") for arch in ARCHES}
    if docker("image", "inspect", f"{REPOSITORY}:cuda", check=False).returncode == 0:
        results["image_cuda_gb"] = size_gb(f"{REPOSITORY}:cuda")
    if args.cold_arm64:
        env = {**os.environ, "EXTRA_BUILD_ARGS": "--no-cache", "ASSETS": os.environ.get("ASSETS", "standin")}
        results["cold_build_arm64_s"], _ = timed(str(HARNESS / "build.sh"), "cpu", REPOSITORY, "linux/arm64", env=env)
    bundle(results)
    publish_pull_run(results)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"
    print(f"{REPOSITORY} on {machine}")
    for key, value in results.items():
        print(f"  {key:32s} {value:8.2f}")
    save_results(args.out, image=REPOSITORY, machine=machine, results=results)


if __name__ == "__main__":
    main()
