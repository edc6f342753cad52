"""dl-doctor: can this container compute with TensorFlow, and on what? Explains GPU trouble.

    dl-doctor                 CPU, what the container was given (memory, CPUs, disk), TensorFlow
                              build, GPUs; a matmul benchmark on each GPU found
    dl-doctor --require-gpu   the same, exit status 1 when TensorFlow sees no GPU

"TensorFlow sees no GPU" is the most common complaint about deep learning images; when that
happens in the CUDA image, each likely cause is named in one line with what to do. Second comes
a Docker VM too small for the work (Docker Desktop's default): named with the fix, before a
training run is killed without a message. Each finding is printed as it is found, and TensorFlow
starts in a child process: when the container's memory cannot hold it, that is one more finding.
"""

import argparse
import ctypes
import os
import subprocess
import sys
import time

from .machine import gpu_devices

GiB = 1 << 30
DISK_NEED = GiB // 2  # a model folder and the feature cache of flower_photos: some 50 MB; room for more


def cpu():
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, {f: f.lower() in flags for f in ("avx2", "fma", "avx512f")}


def driver_cuda_version():
    """CUDA version the host driver supports (e.g. 12.4), or None when libcuda cannot load."""
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    version = ctypes.c_int()
    if libcuda.cuDriverGetVersion(ctypes.byref(version)) != 0:
        return None
    return version.value // 1000 + (version.value % 1000) / 100


def no_gpu_causes(build_cuda):
    """One line per likely cause of 'no GPU visible' in a CUDA build."""
    causes = []
    if not gpu_devices():
        causes.append(
            "no /dev/nvidia* device in the container: start it with `docker run --gpus all` "
            "(compose: the `gpu` profile), or the host has no NVIDIA GPU"
        )
    if os.environ.get("NVIDIA_VISIBLE_DEVICES", "") in ("", "void", "none"):
        causes.append("NVIDIA_VISIBLE_DEVICES is empty/void/none: no GPU was requested for this container")
    driver = driver_cuda_version()
    if driver is None:
        causes.append(
            "libcuda.so.1 (the NVIDIA driver) is not in the container: install the NVIDIA "
            "Container Toolkit on the host and run `nvidia-ctk runtime configure --runtime=docker`"
        )
    elif build_cuda and driver < float(build_cuda.split(".")[0]):
        causes.append(
            f"the host driver supports CUDA {driver:g} but TensorFlow was built for CUDA {build_cuda}: "
            f"update the NVIDIA driver on the host"
        )
    return causes or [
        "the driver answers but TensorFlow found no GPU: run `nvidia-smi` on the host and in the container and compare"
    ]


def container():
    """What the container was given, and a warning with the fix where it is short of ./retrain.sh's need."""
    from dlkit import WORKDIR, machine

    have, limit, need = machine.total_memory(), machine.memory_limit(), machine.need_mib("retrain")
    where = WORKDIR if WORKDIR.exists() else "."
    free = machine.free_disk(where)
    print(
        f"container:   memory {have / GiB:.1f} GiB ({'its limit' if limit else 'no limit: the machine or Docker VM'}), "
        f"{machine.cpus():g} CPUs, {free / GiB:.1f} GiB free in {where}"
    )
    if have < need * machine.MiB:
        print(f"  warning:   ./retrain.sh needs about {need} MiB of memory: {more_memory(need)}")
    if free < DISK_NEED:
        print(
            f"  warning:   under {DISK_NEED / GiB:.1f} GiB free: models and the feature cache may not fit; free some space"
        )


def more_memory(need):
    return f"give Docker more (Docker Desktop: Settings > Resources > Memory; docker run --memory {need}m)"


def matmul_gflops(device, n=4096, repeat=10):
    import tensorflow as tf

    with tf.device(device):
        a = tf.random.normal((n, n))
        b = tf.random.normal((n, n))
        (a @ b).numpy()  # warm-up
        t = time.perf_counter()
        for _ in range(repeat):
            c = a @ b
        c.numpy()
        return 2 * n**3 * repeat / (time.perf_counter() - t) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require-gpu", action="store_true", help="exit 1 when no GPU is visible")
    parser.add_argument("--tensorflow-part", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each finding out at once, also into a pipe or a log
    if args.tensorflow_part:
        return tensorflow_part(args.require_gpu)

    model, features = cpu()
    print(
        f"cpu:         {model}, {os.cpu_count()} cores; "
        + ", ".join(f"{k.upper()} {'yes' if v else 'no'}" for k, v in features.items())
    )
    container()
    child = [sys.executable, "-m", "dlkit.doctor", "--tensorflow-part"] + ["--require-gpu"] * args.require_gpu
    status = subprocess.run(child).returncode
    if status >= 0:
        return status
    from dlkit import machine

    if status == -9:  # SIGKILL: the kernel's out-of-memory killer, at the container's memory limit
        print(
            f"tensorflow:  killed while starting: {machine.total_memory() / GiB:.2f} GiB of memory cannot hold it; "
            f"{more_memory(machine.need_mib('retrain'))}"
        )
    else:
        print(f"tensorflow:  crashed while starting (signal {-status}): report it with the lines above")
    return 1


def tensorflow_part(require_gpu):
    saved = os.dup(2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # TensorFlow's C++ start-up lines
    try:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
    info = tf.sysconfig.get_build_info()
    build_cuda = info.get("cuda_version") if info.get("is_cuda_build") else None
    print(
        f"tensorflow:  {tf.__version__}, "
        + (f"CUDA build (CUDA {build_cuda}, cuDNN {info.get('cudnn_version')})" if build_cuda else "CPU build")
    )
    print(f"image:       {os.environ.get('DL_VARIANT', 'unknown')} variant")
    if gpus:
        for i, gpu in enumerate(gpus):
            details = tf.config.experimental.get_device_details(gpu)
            print(
                f"gpu {i}:       {details.get('device_name', gpu.name)}, compute capability "
                f"{details.get('compute_capability')}; matmul {matmul_gflops(f'/GPU:{i}'):,.0f} GFLOP/s"
            )
        return 0
    print("gpu:         none visible to TensorFlow")
    if not build_cuda:
        print("  why:       this image's TensorFlow is a CPU build; use rucka/deeplearning:cuda for GPUs")
    else:
        for cause in no_gpu_causes(build_cuda):
            print(f"  likely:    {cause}")
    print(f"cpu matmul:  {matmul_gflops('/CPU:0', n=1024, repeat=5):,.0f} GFLOP/s")
    return 1 if require_gpu else 0


if __name__ == "__main__":
    sys.exit(main())
