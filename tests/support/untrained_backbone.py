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

# How weights are compared: written to the file, and as found in a saved model (one definition).
FINGERPRINT = r"""
def fingerprint(model):
    weights = model.get_weights()
    return {"weights": len(weights), "weights_sum": float(sum(abs(w).sum() for w in weights))}
"""

# Weights of a Keras model written as Keras's own .h5 file into a mirror folder, with a one-asset
# manifest that dl-assets fetches them by (hash checked): one definition for every test that needs one.
WRITE = r'''
def write_weights(model, filename, name, profile, provides, attribution, **fields):
    import hashlib, pathlib
    mirror = pathlib.Path("/tmp/mirror")
    mirror.mkdir(exist_ok=True)
    path = mirror / filename
    # Keras's public saver, in its HDF5 format (filename *.h5): Keras's loader of .h5 weights
    # (applications' weights=..., load_weights) reads the weights out of it as from its own files.
    model.save(path)
    extra = "".join(f"{key} = {value}\n" for key, value in fields.items())  # values written as TOML
    pathlib.Path(f"/tmp/{name}.toml").write_text(f"""
[profiles.{profile}]
description = "made by the tests"
[[assets]]
name = "{name}"
provides = "{provides}"
profiles = ["{profile}"]
url = ["https://unreachable.invalid/{filename}"]
filename = "{filename}"
size = {path.stat().st_size}
sha256 = "{hashlib.sha256(path.read_bytes()).hexdigest()}"
license = "Apache-2.0"
attribution = "{attribution}"
{extra}""")
'''

MAKE = (
    FINGERPRINT
    + WRITE
    + r"""
import json, sys
from dlkit.assets import import_keras
keras = import_keras()
spec, name = json.loads(sys.argv[1]), sys.argv[2]  # the manifest's backbone spec of the upstream asset
arch, size = spec["architecture"], spec["input_size"]
model = getattr(keras.applications, arch)(include_top=False, weights=None, input_shape=(size, size, 3))
write_weights(model, f"{name}_notop.h5", name, "untrained", "backbone",
              f"keras.applications.{arch}, freshly initialised (tests and benchmarks only)",
              backbone="{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in spec.items()) + " }")
print(json.dumps(fingerprint(model)))
"""
)

SAVED = (
    FINGERPRINT
    + r"""
import json, sys
from dlkit.assets import import_keras
keras = import_keras()
model = keras.models.load_model(sys.argv[1])
backbone = next(layer for layer in model.layers if isinstance(layer, keras.Model))
print(json.dumps({"name": backbone.name, **fingerprint(backbone)}))
"""
)


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
    p = c.exec("python", "-c", MAKE, json.dumps(UPSTREAM[upstream]), name, timeout=300)
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
    p = c.exec("python", "-c", SAVED, model_file)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[-1])
