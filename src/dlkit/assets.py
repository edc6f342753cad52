"""The image's ImageNet networks and other baked-in assets, and a fast import of Keras.

- `import_keras`: Keras (TensorFlow backend) without TensorFlow's C++ start-up lines, sooner.
- `asset_path`, `dataset_root`: where an installed asset is (the image's asset index, dlkit.store).
- `backbones`, `default_backbone`, `backbone_spec`: what is installed and what the manifest says of
  it (input size, feature count), without building anything.
- `load_backbone`: a frozen ImageNet network, its preprocessing inside, that turns an image into
  one feature vector (a "bottleneck").
"""

import gc
import os
import sys
from pathlib import Path

from .errors import UserError
from .machine import gpu_devices

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
# What Keras imports when installed, for integrations a lean import leaves out (import_keras).
KERAS_EXTRAS = ("sklearn", "pandas", "matplotlib")


def import_keras(lean=False):
    """Import Keras (TensorFlow backend) without TensorFlow's C++ start-up lines.

    TensorFlow prints them before any log setting applies, so stderr is muted for the import only.
    (`dl-doctor` explains a missing GPU properly.)
    The import makes some 700,000 Python objects, and Python's cycle collector would walk them
    again and again meanwhile (0.7 s of 3 here): it is paused for the first import, and what the
    import made is then set aside for good (gc.freeze), so later collections skip it too.
    lean=True: Keras also imports, if installed, the libraries of integrations that a program
    like retrain.py doesn't use: scikit-learn (its estimator wrappers), pandas (its own slicing of
    DataFrames), matplotlib (its image gallery); a third of the import here. Python's documented
    way to say "not installed" (None in sys.modules) keeps those not yet imported out of Keras's
    first import. They import as usual afterwards, for the program's own use, but in that process
    Keras's scikit-learn wrappers say scikit-learn is missing: so it is not the default.
    """
    first = "keras" not in sys.modules
    pause_collector = first and gc.isenabled()
    if pause_collector:
        gc.disable()
    skipped = [m for m in KERAS_EXTRAS if lean and first and m not in sys.modules]
    sys.modules.update(dict.fromkeys(skipped))
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import keras
        import tensorflow as tf

        if not gpu_devices():
            # No GPU attached: a CUDA build logs a cuInit error while looking for one. Look now,
            # muted. (With a GPU attached nothing is muted here: its errors are worth reading.)
            tf.config.list_physical_devices("GPU")
    finally:
        for m in skipped:
            del sys.modules[m]
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        if pause_collector:
            gc.freeze()
            gc.enable()
    return keras


def asset_path(what):
    """Path of an installed asset (a name, or 'backbone' / 'dataset' for the defaults)."""
    from .store import AssetError
    from .store.index import find  # the image's asset index (/opt/assets)

    try:
        return find(what)
    except AssetError as e:
        raise UserError(str(e))


def dataset_root():
    """The image's embedded dataset: a folder of class sub-folders."""
    return Path(asset_path("dataset"))


def asset_entry(name):
    """The asset index's entry of an installed asset (or the default of a kind), or None."""
    from .store.index import installed

    defaults, _, assets = installed()
    return assets.get(defaults.get(name, name))


def backbones():
    """Names of the backbones installed in this image, the default first."""
    from .store.index import installed

    defaults, _, assets = installed()
    names = sorted(n for n, a in assets.items() if a.get("provides") == "backbone")
    return sorted(names, key=lambda n: n != defaults.get("backbone"))


def default_backbone():
    """The backbone the examples use when none is named."""
    names = backbones()
    if not names:
        raise UserError("no backbone is installed in this image: see dl-assets list")
    return names[0]


def backbone_spec(name):
    """What the manifest says of an installed backbone: {architecture, input_size, features (the
    length of its feature vector), preprocess}. Reading it takes no time; building the network does."""
    entry = asset_entry(name)
    if not entry or entry.get("provides") != "backbone":
        have = ", ".join(backbones()) or "none"
        raise UserError(
            f"backbone {name!r} is not in this image (installed: {have}); "
            f"get others with: dl-assets fetch --only {name}"
        )
    from .store.manifest import BACKBONE_KEYS

    if BACKBONE_KEYS - set(entry["backbone"]):  # installed in your folder by an older image (no features)
        raise UserError(
            f"backbone {name!r} was installed by an older version of this image; "
            f"install it again: dl-assets fetch --only {name}"
        )
    return entry["backbone"]


def load_backbone(name):
    """(feature extractor, input size): a frozen ImageNet network ending in global average pooling.

    The extractor takes (size, size, 3) images with 0..255 values and does the network's own
    preprocessing inside, so whoever uses the saved model needs to know nothing about it.
    """
    keras = import_keras()
    spec, path = backbone_spec(name), asset_path(name)
    size = spec["input_size"]
    inputs = keras.Input((size, size, 3), name="image")
    x = inputs
    if spec["preprocess"] == "tf":  # scale 0..255 to -1..1 as these networks were trained
        x = keras.layers.Rescaling(1 / 127.5, offset=-1, name="to_minus1_1")(x)
    if spec["architecture"] == "submodel":  # a network stored inside a larger saved model
        base = keras.models.load_model(path, compile=False).get_layer(spec["submodel"])
    else:
        base = getattr(keras.applications, spec["architecture"])(
            include_top=False, weights=path, input_shape=(size, size, 3)
        )
    base.trainable = False
    x = base(x, training=False)
    features = keras.layers.GlobalAveragePooling2D(name="bottleneck")(x)
    if features.shape[-1] != spec["features"]:
        raise UserError(
            f"backbone {name!r} gives {features.shape[-1]} features; its manifest entry says {spec['features']}"
        )
    return keras.Model(inputs, features, name=f"{name}_features"), size
