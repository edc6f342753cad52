#!/usr/bin/env python3
"""Benchmarks of the image itself (issue targets, not tests): prints a table, writes JSON.

    python3 bench/bench_image.py [--cold] [--runs N]

- cold build   (--cold only) every BuildKit cache dropped first, pip downloads included
- warm rebuild after editing one file under examples/ (target <= 30 s)
- image size   from `docker image inspect` (target <= 3.0 GB before assets)
- run to healthy  `docker run` until Docker reports healthy, median of N (target <= 15 s)
- import tensorflow  in a fresh container, median of N
Standard library only; the build goes through docker/harness/build.sh like `make build`.
"""

import argparse
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

from support.results import save_results

REPO = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("IMAGE", "rucka/deeplearning")
VARIANT = os.environ.get("VARIANT", "cpu")
TAG = f"{IMAGE}:{VARIANT}"


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def timed_build():
    t = time.monotonic()
    subprocess.run(
        [str(REPO / "docker/harness/build.sh"), VARIANT, IMAGE],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - t


def warm_rebuild():
    """Edit one example (add a file, then remove it): the slower of the two rebuilds."""
    probe = REPO / "examples" / "_bench_edit.txt"
    probe.write_text(f"edited at {time.time()}\n")
    try:
        first = timed_build()
    finally:
        probe.unlink()
    return max(first, timed_build())


def run_to_healthy():
    t = time.monotonic()
    cid = sh("docker", "run", "-d", TAG).strip()
    try:
        while sh("docker", "inspect", "-f", "{{.State.Health.Status}}", cid).strip() != "healthy":
            if time.monotonic() - t > 120:
                raise RuntimeError("not healthy after 120 s")
            time.sleep(0.1)
        return time.monotonic() - t
    finally:
        sh("docker", "rm", "-f", cid)


def import_tensorflow():
    out = sh(
        "docker",
        "run",
        "--rm",
        TAG,
        "python",
        "-c",
        "import time; t = time.perf_counter(); import tensorflow; print(time.perf_counter() - t)",
    )
    return float(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", action="store_true", help="also time a build with every cache dropped")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / f"image-{VARIANT}.json"))
    args = ap.parse_args()

    results = {}
    if args.cold:
        sh("docker", "builder", "prune", "-af")
        results["cold_build_s"] = timed_build()
    else:
        timed_build()  # make sure the image is current before timing the warm path
    results["warm_rebuild_after_example_edit_s"] = warm_rebuild()
    results["image_size_gb"] = int(sh("docker", "image", "inspect", "-f", "{{.Size}}", TAG)) / 1e9
    for other in ("cpu", "cuda"):  # the other variant too, when it is built
        p = subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Size}}", f"{IMAGE}:{other}"], capture_output=True, text=True
        )
        if other != VARIANT and p.returncode == 0:
            results[f"image_size_{other}_gb"] = int(p.stdout) / 1e9
    results["run_to_healthy_s"] = statistics.median(run_to_healthy() for _ in range(args.runs))
    results["import_tensorflow_s"] = statistics.median(import_tensorflow() for _ in range(args.runs))
    targets = {"warm_rebuild_after_example_edit_s": 30, "image_size_gb": 3.0, "run_to_healthy_s": 15}
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"

    print(f"{TAG} on {machine}")
    for key, value in results.items():
        target = targets.get(key)
        verdict = "" if target is None else ("  ok (<= %g)" % target if value <= target else "  OVER %g" % target)
        print(f"  {key:36s} {value:8.2f}{verdict}")
    save_results(args.out, image=TAG, machine=machine, results=results, targets=targets)


if __name__ == "__main__":
    main()
