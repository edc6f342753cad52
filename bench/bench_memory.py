#!/usr/bin/env python3
"""Peak memory of every example in the image, and the smallest `docker run --memory` it runs under.

    python3 bench/bench_memory.py [--only retrain ...]

Each program runs offline in a fresh container on the image's embedded data (spacy_nlp on a text
of its maximum length; retrain and tune computing every feature, and retrain again with them
cached); the peak is the container's cgroup high-water mark (page cache included).
Then it runs again under `--memory M --memory-swap M` for M = 256, 384, 512, ... MiB until it
succeeds: below that, the kernel kills it (exit 137). dlkit.machine.NEEDS_MIB holds these figures
(rounded up) for the warning the examples and dl-doctor give. Writes bench/results/memory-cpu.json.
"""

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TAG = os.environ.get("IMAGE_TAG", "rucka/deeplearning:cpu")
VOLUME = "dl-bench-memory-models"
PEAK = "cat /sys/fs/cgroup/memory.peak 2>/dev/null || cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes"
TEXT = "python -c 'print(\"The quick brown fox jumps over the lazy dog near the river bank. \" * 1500)'"
PROGRAMS = {
    "retrain": "./retrain.sh --bottleneck_dir /tmp/cache",  # a first run: every feature computed
    "retrain_cached": "./retrain.sh",  # a re-run: the features from models/.bottlenecks
    "evaluate": './evaluate.sh "$(dl-assets path dataset)"',
    "tune": "./tune.sh --bottleneck_dir /tmp/cache",
    "spacy_nlp": f"{TEXT} | ./spacy_nlp.sh",
    "word_algebra": './word_algebra.sh "rome - italy + france"',
    "faces": "./faces.sh --sample astronaut",
    "learning_curves": "./learning_curves.sh",
}
LIMITS_MIB = [256, 384, 512, 640, 768, 1024, 1280, 1536, 2048]


def docker_run(command, *extra):
    """(exit status, seconds, peak MiB or None) of command in a fresh offline container."""
    t = time.monotonic()
    script = f"{command} >/dev/null 2>&1; s=$?; {PEAK}; exit $s"
    cmd = ["docker", "run", "--rm", "--network", "none", "-v", f"{VOLUME}:/home/jovyan/work/models", *extra]
    p = subprocess.run([*cmd, TAG, "bash", "-c", script], capture_output=True, text=True)
    out = p.stdout.split()
    peak = int(out[-1]) / 2**20 if out and out[-1].isdigit() else None
    return p.returncode, time.monotonic() - t, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=sorted(PROGRAMS), default=sorted(PROGRAMS))
    args = ap.parse_args()
    subprocess.run(["docker", "volume", "rm", "-f", VOLUME], capture_output=True)
    # evaluate needs a model: made once, without a limit, in the volume every run mounts.
    status, _, _ = docker_run("./retrain.sh --how_many_training_steps 100")
    assert status == 0, "could not make the model evaluate needs"
    results = {}
    for name in args.only:
        status, seconds, peak = docker_run(PROGRAMS[name])
        assert status == 0, f"{name} failed without a memory limit"
        smallest = None
        for limit in LIMITS_MIB:
            status, _, _ = docker_run(PROGRAMS[name], "--memory", f"{limit}m", "--memory-swap", f"{limit}m")
            if status == 0:
                smallest = limit
                break
        results[name] = {"peak_mib": round(peak or 0), "seconds": round(seconds, 1), "smallest_memory_mib": smallest}
        print(
            f"  {name:16} peak {peak or 0:7.0f} MiB   runs under --memory {smallest}m   ({seconds:.1f} s)", flush=True
        )
    subprocess.run(["docker", "volume", "rm", "-f", VOLUME], capture_output=True)
    out = REPO / "bench" / "results" / "memory-cpu.json"
    earlier = json.loads(out.read_text())["results"] if out.exists() and args.only != sorted(PROGRAMS) else {}
    out.write_text(
        json.dumps(
            {
                "image": TAG,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "results": {**earlier, **results},
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
