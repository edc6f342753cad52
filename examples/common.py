"""What the examples share: clear errors, reading images by content, the ImageNet backbones.

Kept apart so that each example file shows its own idea; nothing here is magic:
- `UserError` and `main_guard`: a mistake in the input is one line and a non-zero exit status,
  never a traceback.
- `load_image`: opens JPEG, PNG and friends by their content (a PNG named .jpg is fine), and turns
  them into the square RGB array a network expects.
- `load_backbone`: a frozen ImageNet network found by name among the image's assets, with its
  preprocessing built in, that turns an image into one feature vector (a "bottleneck");
  `backbone_spec`: its input size and feature count from the manifest, without building it.
- `decoded_batches`, `predict_padded`: many images through a network, decoded in threads a few
  batches ahead of it, every call with the same batch shape.
"""
import errno
import gc
import glob
import os
import signal
import sys
import threading
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

import numpy as np  # noqa: E402
from PIL import Image, UnidentifiedImageError  # noqa: E402

IMAGE_FORMATS = {"JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF", "MPO"}


class UserError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 1."""


class BadImage(UserError):
    """A file that is not a usable image: str() is "path: reason"."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def main_guard(prog, main):
    """Run main(); turn user errors, full disks and Ctrl-C into one line and an exit status."""
    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)  # `docker stop` cleans up like Ctrl-C
    sys.stdout.reconfigure(line_buffering=True)  # progress shows at once, also through a pipe or a log
    try:
        try:
            sys.exit(main())
        except Exception as e:
            if isinstance(e.__cause__, KeyboardInterrupt):  # Ctrl-C inside an import can come out wrapped
                raise e.__cause__
            raise
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; nothing half-written was kept", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # `... | head`: the reader has gone; stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as e:  # a full disk, a read-only folder...
        where = f" ({e.filename})" if e.filename else ""
        hint = "; free some space, or write somewhere else" if e.errno == errno.ENOSPC else ""
        print(f"{prog}: error: {e.strerror or e}{where}{hint}", file=sys.stderr)
        sys.exit(1)
    finally:
        # On exit Python would walk every object TensorFlow and Keras made (about a second),
        # just before the system frees them all at once; frozen objects are left to the system.
        gc.freeze()


def read_image(path, draft=None):
    """The image at path as a PIL RGB image, read by its content, not its name.

    draft=(w, h): a JPEG may be decoded at a reduced scale (1/2 to 1/8) still at least that big.
    Every problem with the file is a BadImage (one line), except real I/O errors.
    """
    try:
        with _open_unchecked(path) as image:
            if image.format not in IMAGE_FORMATS:
                raise BadImage(path, f"{image.format} images are not supported")
            width, height = image.size
            if draft:
                image.draft("RGB", draft)  # JPEG: much faster, and much less memory
            limit = Image.MAX_IMAGE_PIXELS or float("inf")
            if image.width * image.height > limit:  # a "decompression bomb", or just a huge PNG
                raise BadImage(path, f"{width}x{height} pixels is too large to decode safely "
                                     f"(limit {limit // 10**6:.0f} megapixels; make it smaller)")
            return image.convert("RGB")
    except UnidentifiedImageError:
        raise BadImage(path, "not an image" + (" (an empty file)" if _empty(path) else ""))
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt files
        if isinstance(e, OSError) and e.errno is not None:
            raise  # a real I/O problem (permissions, disk), not a bad image
        raise BadImage(path, f"unreadable image ({e})")


_OPENING = threading.Lock()


def _open_unchecked(path):
    """Image.open without Pillow's size limit, which read_image applies after JPEG's reduced-scale
    decoding instead: a 20000x20000 photo is read at 2500x2500. Opening reads only the header, so
    the limit is off only for that instant (our decoding threads take turns), then back on."""
    with _OPENING:
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def load_image(path, size):
    """The image at path as a (size, size, 3) float32 array of 0..255 RGB values."""
    image = read_image(path, draft=(size, size))
    return np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.float32)


def decoded_batches(files, size, batch_size=32):
    """Yield the files in batches of [(path, array or None, why not)], decoded by load_image in
    threads that run a few batches ahead, so the network never waits for the disk or the JPEG
    decoder, and memory holds a few batches, not a whole folder of decoded images."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    def decode(batch):
        out = []
        for f in batch:
            try:
                out.append((f, load_image(f, size), None))
            except BadImage as e:
                out.append((f, None, e.reason))
        return out

    workers = os.cpu_count() or 2
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ahead = deque()
        for i in range(0, len(files), batch_size):
            ahead.append(pool.submit(decode, files[i:i + batch_size]))
            if len(ahead) > 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def predict_padded(predict, x, batch_size):
    """predict(x) for x of at most batch_size images, padded with black images to batch_size:
    Keras traces the network again for each new batch shape (~0.7 s), so every call uses one."""
    pad = np.zeros((batch_size - len(x), *x.shape[1:]), x.dtype)
    return np.asarray(predict(np.concatenate([x, pad])))[:len(x)]


def _empty(path):
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


def ema(values, weight=0.6):
    """Exponential moving average: each point is weight * previous + (1 - weight) * value.

    This is TensorBoard's "smoothing" slider; it shows the trend of a noisy curve.
    """
    out, last = [], values[0] if len(values) else 0
    for v in values:
        last = weight * last + (1 - weight) * v
        out.append(last)
    return np.array(out)


def import_keras():
    """Import Keras (TensorFlow backend) without TensorFlow's C++ start-up lines.

    TensorFlow prints them before any log setting applies, so stderr is muted for the import only.
    (`dl-doctor` explains a missing GPU properly.)
    The import makes some 700,000 Python objects, and Python's cycle collector would walk them
    again and again meanwhile (0.7 s of 3 here): it is paused for the first import, and what the
    import made is then set aside for good (gc.freeze), so later collections skip it too.
    """
    pause_collector = "keras" not in sys.modules and gc.isenabled()
    if pause_collector:
        gc.disable()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import keras
        import tensorflow as tf
        if not glob.glob("/dev/nvidia[0-9]*"):
            # No GPU attached: a CUDA build logs a cuInit error while looking for one. Look now,
            # muted. (With a GPU attached nothing is muted here: its errors are worth reading.)
            tf.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        if pause_collector:
            gc.freeze()
            gc.enable()
    return keras


def asset_path(what):
    """Path of an installed asset (a name, or 'backbone' / 'dataset' for the defaults)."""
    from dl_assets import AssetError, find  # the image's asset index (/opt/assets)
    try:
        return find(what)
    except AssetError as e:
        raise UserError(str(e))


def asset_entry(name):
    from dl_assets import installed
    defaults, _, assets = installed()
    return assets.get(defaults.get(name, name))


def backbones():
    """Names of the backbones installed in this image, the default first."""
    from dl_assets import installed
    defaults, _, assets = installed()
    names = sorted(n for n, a in assets.items() if a.get("provides") == "backbone")
    return sorted(names, key=lambda n: n != defaults.get("backbone"))


def backbone_spec(name):
    """What the manifest says of an installed backbone: {architecture, input_size, features (the
    length of its feature vector), preprocess}. Reading it takes no time; building the network does."""
    entry = asset_entry(name)
    if not entry or entry.get("provides") != "backbone":
        have = ", ".join(backbones()) or "none"
        raise UserError(f"backbone {name!r} is not in this image (installed: {have}); "
                        f"get others with: dl-assets fetch --only {name}")
    from dl_assets import BACKBONE_KEYS
    if BACKBONE_KEYS - set(entry["backbone"]):  # installed in your folder by an older image (no features)
        raise UserError(f"backbone {name!r} was installed by an older version of this image; "
                        f"install it again: dl-assets fetch --only {name}")
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
            include_top=False, weights=path, input_shape=(size, size, 3))
    base.trainable = False
    x = base(x, training=False)
    features = keras.layers.GlobalAveragePooling2D(name="bottleneck")(x)
    if features.shape[-1] != spec["features"]:
        raise UserError(f"backbone {name!r} gives {features.shape[-1]} features; its manifest entry "
                        f"says {spec['features']}")
    return keras.Model(inputs, features, name=f"{name}_features"), size


def dataset_root():
    return Path(asset_path("dataset"))
