"""Keras weights made, written as Keras's own .h5 files and fingerprinted, inside the container.

    python -c "$(cat keras_weights.py)" backbone SPEC_JSON NAME   an upstream backbone, untrained
    python -c "$(cat keras_weights.py)" top                        MobileNetV2 with its top, untrained
    python -c "$(cat keras_weights.py)" imagenet                   MobileNetV2(weights="imagenet")
    python -c "$(cat keras_weights.py)" saved MODEL_FILE           the backbone inside a saved model

Each prints one JSON line: the weights' fingerprint (and the backbone's name for `saved`). `backbone`
and `top` also write the weights into the mirror folder /tmp/mirror with a one-asset manifest
/tmp/NAME.toml that dl-assets fetches them by (hash checked). Used by tests/support/untrained_backbone.py
and tests/test_habits.py.
"""

import hashlib
import json
import pathlib
import sys

from dlkit.assets import import_keras

keras = import_keras()


def fingerprint(model):
    """How weights are compared: as written to the file, and as found in a saved model."""
    weights = model.get_weights()
    return {"weights": len(weights), "weights_sum": float(sum(abs(w).sum() for w in weights))}


def write_weights(model, filename, name, profile, provides, attribution, **fields):
    mirror = pathlib.Path("/tmp/mirror")
    mirror.mkdir(exist_ok=True)
    path = mirror / filename
    # Keras's public saver, in its HDF5 format (filename *.h5): Keras's loader of .h5 weights
    # (applications' weights=..., load_weights) reads the weights out of it as from its own files.
    model.save(path)
    entry = {
        "name": name,
        "provides": provides,
        "profiles": [profile],
        "url": [f"https://unreachable.invalid/{filename}"],
        "filename": filename,
        "size": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "license": "Apache-2.0",
        "attribution": attribution,
    }
    # JSON's strings, numbers and lists are TOML's too; fields' values are written as TOML already.
    lines = [f"{key} = {json.dumps(value)}" for key, value in entry.items()]
    lines += [f"{key} = {value}" for key, value in fields.items()]
    text = f'[profiles.{profile}]\ndescription = "made by the tests"\n[[assets]]\n' + "\n".join(lines) + "\n"
    pathlib.Path(f"/tmp/{name}.toml").write_text(text)


command, args = sys.argv[1], sys.argv[2:]
if command == "backbone":
    spec, name = json.loads(args[0]), args[1]  # the manifest's backbone spec of the upstream asset
    arch, size = spec["architecture"], spec["input_size"]
    model = getattr(keras.applications, arch)(include_top=False, weights=None, input_shape=(size, size, 3))
    write_weights(
        model,
        f"{name}_notop.h5",
        name,
        "untrained",
        "backbone",
        f"keras.applications.{arch}, freshly initialised (tests and benchmarks only)",
        backbone="{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in spec.items()) + " }",
    )
    print(json.dumps(fingerprint(model)))
elif command == "top":
    filename = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"  # Keras's own file name
    model = keras.applications.MobileNetV2(weights=None)
    write_weights(
        model,
        filename,
        "mobilenet_v2_top",
        "test",
        "keras",
        "keras.applications.MobileNetV2, freshly initialised (tests only)",
        keras=f'"models/{filename}"',
    )
    print(json.dumps(fingerprint(model)))
elif command == "imagenet":
    print(json.dumps(fingerprint(keras.applications.MobileNetV2(weights="imagenet"))))
elif command == "saved":
    model = keras.models.load_model(args[0])
    backbone = next(layer for layer in model.layers if isinstance(layer, keras.Model))
    print(json.dumps({"name": backbone.name, **fingerprint(backbone)}))
else:
    sys.exit(f"keras_weights.py: unknown command {command!r}")
