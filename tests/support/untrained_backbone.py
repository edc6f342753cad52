"""An upstream backbone architecture with untrained weights, installed in a running container.

The users' default backbone is EfficientNetB0 from Keras' ImageNet weights file
(efficientnetb0_notop.h5, a Keras "legacy" HDF5 weights file), which this machine cannot download.
The same architecture with freshly initialised weights, written in the same file format and
installed through dl-assets (a manifest entry, a mirror, a hash), takes exactly the users' code path
and costs exactly the same compute per image; only its features are meaningless. Used by
tests/test_retrain.py (the path works) and bench/bench_retrain.py --upstream_shape (how long the
users' first run and re-run take).

A backbone installed this way has no ONNX file: the users' build converts its backbones at build
time (`dl-assets engines`, with onnx and tf2onnx from docker/requirements/export.txt, which the image
never holds). `convert_for_onnx` does the same in the container: tests/test_retrain.py (the
converted network gives TensorFlow's features) and bench/bench_vs_keras_io.py --upstream_shape.
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Made, written and fingerprinted in the container by one program (its commands: backbone, saved).
KERAS_WEIGHTS = (Path(__file__).resolve().parents[1] / "payloads" / "keras_weights.py").read_text()


with open(REPO / "docker" / "assets" / "manifest.toml", "rb") as f:
    # The backbones of the users' build: {name: {architecture, input_size, features, preprocess}}.
    UPSTREAM = {
        a["name"]: a["backbone"]
        for a in tomllib.load(f)["assets"]
        if a["provides"] == "backbone" and "upstream" in a["profiles"]
    }


def install_untrained_backbone(c, upstream="efficientnet_b0"):
    """Make and install {upstream}_untrained in container c (the user's asset folder, through dl-assets and
    a local mirror, hash checked); return {"name", "weights_sum", "weights"} of the weights written."""
    name = f"{upstream}_untrained"
    p = c.exec("python", "-c", KERAS_WEIGHTS, "backbone", json.dumps(UPSTREAM[upstream]), name, timeout=300)
    assert p.returncode == 0, p.stderr
    made = json.loads(p.stdout.splitlines()[-1])
    p = c.exec(
        "dl-assets",
        "--manifest",
        f"/tmp/{name}.toml",
        "fetch",
        "--profile",
        "untrained",
        "--only",
        name,
        "--mirror",
        "/tmp/mirror",
        "--mirror-only",
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    return {"name": name, **made}


def saved_backbone(c, model_file):
    """{"name", "weights", "weights_sum"} of the backbone inside a model saved by ./retrain.sh."""
    p = c.exec("python", "-c", KERAS_WEIGHTS, "saved", model_file)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[-1])


def export_requirements(names=("onnx", "tf2onnx")):
    """The hash-pinned requirement blocks of `names` in the build's export lock (the packages the
    image lacks for `dl-assets engines`; their dependencies are in the image's own lock)."""
    blocks, keep = [], False
    for line in (REPO / "docker" / "requirements" / "export.txt").read_text().splitlines():
        if line and not line[0].isspace():
            keep = line.split("==")[0] in names
        if keep and not line.lstrip().startswith("#"):
            blocks.append(line)
    return "\n".join(blocks) + "\n"


def convert_for_onnx(c, name):
    """Convert the installed backbone `name` for ONNX Runtime in container c, as the users' build
    does: onnx and tf2onnx are downloaded here (PyPI, hash checked against the export lock) for the
    container's platform, put on a path of their own in it, and `dl-assets engines` converts the
    backbones of the user's asset folder. Returns the ONNX file's path in the container."""
    p = c.exec("dl-assets", "path", name)
    assert p.returncode == 0, p.stderr
    dest = str(Path(p.stdout.strip()).parents[1])
    arch = c.exec("uname", "-m").stdout.strip() or platform.machine()
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "export.txt"
        reqs.write_text(export_requirements())
        tags = [f"--platform={t}_{arch}" for t in ("manylinux_2_28", "manylinux_2_17", "manylinux2014")]
        cert = [f"--cert={os.environ['CA_BUNDLE']}"] if os.environ.get("CA_BUNDLE") else []  # the builds' proxy CA
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--require-hashes", "--no-deps", "--only-binary", ":all:",
             "--python-version", "3.11", "--implementation", "cp", *tags, *cert, "-d", f"{tmp}/wheels", "-r", str(reqs)],
            check=True, timeout=600,
        )  # fmt: skip
        subprocess.run(["docker", "cp", f"{tmp}/wheels", f"{c.id}:/tmp/export-wheels"], check=True, timeout=120)
    p = c.exec("sh", "-c", "pip install -q --no-deps --target /tmp/export /tmp/export-wheels/*.whl", timeout=300)
    assert p.returncode == 0, p.stderr
    p = c.exec("env", "PYTHONPATH=/tmp/export", "dl-assets", "engines", "--dest", dest, "--only", name, timeout=600)
    assert p.returncode == 0, p.stderr
    return f"{dest}/{name}/features.onnx"
