"""An upstream backbone architecture with untrained weights, installed in a running container.

The users' default backbone is EfficientNetB0 from Keras' ImageNet weights file
(efficientnetb0_notop.h5, a Keras "legacy" HDF5 weights file), which this machine cannot download.
The same architecture with freshly initialised weights, written in the same file format and
installed through dl-assets (a manifest entry, a mirror, a hash), takes exactly the users' code path
and costs exactly the same compute per image; only its features are meaningless. Used by
tests/test_retrain.py (the path works) and bench/bench_retrain.py --upstream_shape (how long the
users' first run and re-run take).
"""

import json
import tomllib
from pathlib import Path

# Made, written and fingerprinted in the container by one program (its commands: backbone, saved).
KERAS_WEIGHTS = (Path(__file__).resolve().parents[1] / "payloads" / "keras_weights.py").read_text()


with open(Path(__file__).resolve().parents[2] / "docker" / "assets" / "manifest.toml", "rb") as f:
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
