"""What the container was given: memory (its cgroup's limit), CPUs, free disk; and a warning,
before the work starts, when that is less than a program is measured to need.

Docker Desktop's VM (macOS, Windows) and `docker run --memory` set the limit; past it the kernel
kills the process with no message at all (exit status 137). `dl-doctor` prints the same figures.
"""

import glob
import os
import shutil
import sys
from pathlib import Path

MiB = 1 << 20
# The smallest `docker run --memory` each example runs under on the image's embedded data,
# measured by `make bench` (bench/bench_memory.py) on the stand-in profile (MobileNetV2, 240
# textures). The users' profile trains EfficientNetB0 on 3,670 photos: its first run peaked at
# 1.5 GiB resident (bench_retrain.py --upstream_shape), so it asks for 2 GiB where features are made.
NEEDS_MIB = {
    "standin": {
        "retrain": 768,
        "evaluate": 384,  # the backbone on ONNX Runtime, no TensorFlow (768 by Keras)
        "tune": 768,
        "spacy_nlp": 512,
        "word_algebra": 256,
        "faces": 256,
        "learning_curves": 384,
    },
    "upstream": {
        "retrain": 2048,
        "evaluate": 1024,
        "tune": 2048,
        "spacy_nlp": 512,
        "word_algebra": 256,
        "faces": 256,
        "learning_curves": 384,
    },
}


def need_mib(program):
    """What the program needs with this image's assets, in MiB (None: not measured)."""
    return NEEDS_MIB.get(os.environ.get("DL_ASSETS_PROFILE"), NEEDS_MIB["upstream"]).get(program)


def memory_limit():
    """The container's memory limit in bytes (cgroup v2 or v1), or None when it has none."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:
            return int(value)
        return None
    return None


def total_memory():
    """The memory this container can use: its limit, or the machine's (the Docker VM's) memory."""
    limit = memory_limit()
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return min(limit, machine) if limit else machine


def cpus():
    """CPUs this container may use: its CPU quota (docker run --cpus), else the CPUs it may run on."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()  # cgroup v2
    except (OSError, ValueError):
        try:  # cgroup v1
            quota, period = (
                Path(f"/sys/fs/cgroup/cpu/cpu.cfs_{k}_us").read_text().strip() for k in ("quota", "period")
            )
        except OSError:
            quota, period = "max", "1"
    if quota not in ("max", "-1"):
        return round(int(quota) / int(period), 2)
    return len(os.sched_getaffinity(0))


def free_disk(path="."):
    """Free bytes on the file system of path."""
    return shutil.disk_usage(path).free


def warn_if_short(program):
    """One warning line when the container has less memory than the program is measured to need."""
    need = need_mib(program)
    have = total_memory()
    if need and have < need * MiB:
        print(
            f"warning: this container has {have // MiB} MiB of memory; {program} needs about {need} MiB "
            f"and may be killed without a message (exit 137): give Docker more memory (Docker Desktop: "
            f"Settings > Resources > Memory; docker run --memory {need}m or more)",
            file=sys.stderr,
        )


def gpu_devices():
    """The NVIDIA GPUs' device files in this container (/dev/nvidia0...): none without `--gpus`."""
    return sorted(glob.glob("/dev/nvidia[0-9]*"))
