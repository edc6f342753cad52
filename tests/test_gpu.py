"""GPU readiness: dl-doctor in both images; in the CUDA image, its libraries and TensorFlow's CUDA
build. Checks that need a real GPU skip, with the reason, where Docker has no NVIDIA runtime."""

import json
import shutil
import subprocess

import pytest
from support.containers import VARIANT, docker, run

pytestmark = pytest.mark.variant
CUDA = VARIANT == "cuda"
cuda_only = pytest.mark.skipif(not CUDA, reason="CUDA image checks: run `make test-cuda`")


def gpu_available():
    """A GPU that `docker run --gpus all` can use: an NVIDIA driver on the host, a runtime in Docker."""
    if not shutil.which("nvidia-smi") or subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode:
        return False
    runtimes = json.loads(docker("info", "--format", "{{json .Runtimes}}").stdout or "{}")
    return "nvidia" in runtimes or shutil.which("nvidia-container-runtime-hook") is not None


needs_gpu = pytest.mark.skipif(
    not (CUDA and gpu_available()), reason="needs the CUDA image and an NVIDIA GPU with the container toolkit"
)


def test_dl_doctor_describes_cpu_and_tensorflow():
    p = run("--network", "none", command=["dl-doctor"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("cpu:") and "AVX2" in p.stdout and "GFLOP/s" in p.stdout
    build = "CUDA build (CUDA 12" if CUDA else "CPU build"
    assert "tensorflow:  2." in p.stdout and build in p.stdout


def test_dl_doctor_require_gpu_fails_without_a_gpu():
    p = run("--network", "none", command=["dl-doctor", "--require-gpu"])
    assert p.returncode == 1
    assert "gpu:         none visible to TensorFlow" in p.stdout
    if CUDA:
        assert "likely:    no /dev/nvidia* device in the container: start it with `docker run --gpus all`" in p.stdout
        assert "libcuda.so.1 (the NVIDIA driver) is not in the container" in p.stdout
    else:
        assert "use rucka/deeplearning:cuda" in p.stdout


LIBS = [
    "libcudart.so.12",
    "libcublas.so.12",
    "libcublasLt.so.12",
    "libcudnn.so.9",
    "libcufft.so.11",
    "libcurand.so.10",
    "libcusolver.so.11",
    "libcusparse.so.12",
    "libnccl.so.2",
    "libnvJitLink.so.12",
    "libnvrtc.so.12",
    "libcupti.so.12",
]


@cuda_only
@pytest.mark.parametrize("lib", LIBS)
def test_cuda_library_loads_by_soname(host, lib):
    # dlopen by bare name: found through /etc/ld.so.conf.d/nvidia-pip.conf, no LD_LIBRARY_PATH.
    out = host.check_output("python -c %s %s", "import ctypes, sys; ctypes.CDLL(sys.argv[1]); print('ok')", lib)
    assert out == "ok"


@cuda_only
def test_tensorflow_is_a_cuda_build_and_finds_ptxas(host):
    out = host.check_output(
        "python -c %s",
        "import tensorflow as tf; i = tf.sysconfig.get_build_info(); "
        "print(tf.test.is_built_with_cuda(), i['cuda_version'][:3], i['cudnn_version'])",
    )
    built, cuda, cudnn = out.splitlines()[-1].split()
    assert built == "True" and cuda.startswith("12") and cudnn.startswith("9")
    assert host.exists("ptxas")


@cuda_only
def test_nvidia_container_settings(image):
    env = dict(e.split("=", 1) for e in image["Config"]["Env"])
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert env["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


@needs_gpu
def test_a_gpu_is_visible_and_computes():
    p = run("--gpus", "all", command=["dl-doctor", "--require-gpu"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "gpu 0:" in p.stdout and "GFLOP/s" in p.stdout.split("gpu 0:", 1)[1]


@needs_gpu
def test_retrain_runs_on_the_gpu():
    p = run("--gpus", "all", "--network", "none", command=["./retrain.sh", "--how_many_training_steps", "100"])
    assert p.returncode == 0, p.stderr
    assert "Final test accuracy" in p.stdout
