"""Transfer learning: retrain the final layer of an ImageNet network for your own categories.

    ./retrain.sh                                   the image's embedded dataset, default backbone
    ./retrain.sh --image_dir data/simpsons         a folder with one sub-folder per category
    ./retrain.sh --backbone inception_v3 --how_many_training_steps 500

What it shows (the "Simpsons detector" of the talk, after TensorFlow's classic retrain.py):
1. A network trained on ImageNet already knows how to see. We keep it frozen and run every image
   through it once, keeping its last feature vector: the "bottleneck". These are cached on disk
   by image content, so a second run skips this slow part.
2. We then train only a new softmax layer on the bottlenecks: seconds, not days.
3. Images are split into training / validation / testing by a hash of their path inside the
   dataset, so the split never changes between runs (or when the folder is moved).
4. A second run on the same images takes seconds, most of them importing TensorFlow: a helper
   process reads the cached features meanwhile, and the backbone (needed only to save the
   finished model) is built in a thread while the new layer trains.
Outputs in models/<name>/: model.keras (backbone included), labels.txt, TensorBoard logs,
learning_curves.png, confusion_matrix.png, metrics.json. A run that is interrupted leaves the
previous model as it was.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (UserError, asset_entry, backbone_spec, backbones, dataset_root, decoded_batches, ema,
                    import_keras, load_backbone, load_image, main_guard, predict_padded)  # noqa: E402

MAX_PER_CLASS = 2 ** 27 - 1  # as in the classic retrain.py: split percentages by hash
MIN_IMAGES_WARN = 20


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--image_dir", type=Path, help="folder of class sub-folders (default: the image's embedded dataset)")
    p.add_argument("--backbone", help="ImageNet network to start from (default: the image's default; see dl-assets list)")
    p.add_argument("--output_dir", type=Path, default=Path("models"), help="where models/<name> is written")
    p.add_argument("--name", default="retrained", help="the model's folder name under --output_dir")
    p.add_argument("--bottleneck_dir", type=Path, help="feature cache (default: OUTPUT_DIR/.bottlenecks)")
    p.add_argument("--how_many_training_steps", type=int, default=4000)
    p.add_argument("--learning_rate", type=float, default=0.01)
    p.add_argument("--train_batch_size", type=int, default=100)
    p.add_argument("--eval_step_interval", type=int, default=10)
    p.add_argument("--validation_batch_size", type=int, default=100, help="-1: the whole validation set")
    p.add_argument("--testing_percentage", type=float, default=10)
    p.add_argument("--validation_percentage", type=float, default=10)
    p.add_argument("--print_misclassified_test_images", action="store_true")
    p.add_argument("--random_seed", type=int, default=0, help="same seed, same data, same result")
    p.add_argument("--flip_left_right", action="store_true", help="distortion: random horizontal flips")
    p.add_argument("--random_scale", type=float, default=0, help="distortion: random zoom, in percent")
    p.add_argument("--random_brightness", type=float, default=0, help="distortion: random brightness, in percent")
    p.add_argument("--batch_size", type=int, default=32, help="images per backbone call when computing bottlenecks")
    p.add_argument("--distribute", choices=["none", "mirrored"], default="none",
                   help="mirrored: tf.distribute.MirroredStrategy over every GPU (without GPUs: over "
                        "DL_LOGICAL_CPUS logical CPU devices, to try it on a laptop)")
    args = p.parse_args(argv)
    if args.how_many_training_steps < 1 or args.train_batch_size < 1 or args.eval_step_interval < 1:
        p.error("--how_many_training_steps, --train_batch_size and --eval_step_interval must be at least 1")
    if not 0 <= args.testing_percentage + args.validation_percentage < 100:
        p.error("--testing_percentage + --validation_percentage must be between 0 and 100")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", args.name) or args.name.startswith("."):
        p.error("--name must be a plain folder name (letters, digits, . _ -)")
    return args


# ---- 1. the dataset ---------------------------------------------------------------------

def label_of(folder_name):
    """Folder name to label, as the classic retrain.py did: 'Homer_Simpson' -> 'homer simpson'.
    Letters of every language stay ('Città_del_Capo' -> 'città del capo')."""
    return re.sub(r"[\W_]+", " ", unicodedata.normalize("NFC", folder_name).lower()).strip()


def which_set(relative_path, testing_percentage, validation_percentage):
    """'training', 'validation' or 'testing', decided by a hash of the path inside the dataset.

    Text after '_nohash_' is ignored, so variants of one photo land in the same set.
    """
    key = re.sub(r"_nohash_.*$", "", relative_path)
    h = int(hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest(), 16)
    percent = (h % (MAX_PER_CLASS + 1)) * (100.0 / MAX_PER_CLASS)
    if percent < testing_percentage:
        return "testing"
    if percent < testing_percentage + validation_percentage:
        return "validation"
    return "training"


def warn_skipped(path, why):
    """The one warning line for anything in the dataset that is left out."""
    print(f"warning: skipped {path}: {why}", file=sys.stderr)


def image_files(folder, seen):
    """The (non-hidden) files under folder, sorted. Linked folders are followed, each folder once:
    a link loop, a link into another class or a broken link is skipped with a warning, never an
    endless walk. seen: (inode, device) of the folders not to enter (the dataset, the classes)."""
    files = []
    for root, dirs, names in os.walk(folder, followlinks=True,
                                     onerror=lambda e: warn_skipped(e.filename, e.strerror)):
        keep = []
        for d in sorted(d for d in dirs if not d.startswith(".")):
            try:
                key = os.stat(os.path.join(root, d))[1:3]
            except OSError as e:
                warn_skipped(os.path.join(root, d), e.strerror)
                continue
            if key in seen:
                warn_skipped(os.path.join(root, d), "a link to a folder that is scanned already (a loop, or another class)")
            else:
                seen.add(key)
                keep.append(d)
        dirs[:] = keep
        for n in sorted(n for n in names if not n.startswith(".")):
            f = Path(root) / n
            if f.is_file():
                files.append(f)
            elif f.is_symlink():
                warn_skipped(f, "a broken link, or a link loop")
    return files


def scan(image_dir):
    """{label: [files]} from a folder of class sub-folders (hidden files and folders skipped)."""
    if not image_dir.exists():
        raise UserError(f"image_dir {image_dir} does not exist")
    if not image_dir.is_dir():
        raise UserError(f"image_dir {image_dir} is not a folder")
    classes = {}
    root = image_dir.resolve()
    subs = []
    for sub in sorted(p for p in image_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if root.is_relative_to(sub.resolve()):
            warn_skipped(sub, "a link back to the dataset folder (a loop)")
        else:
            subs.append(sub)
    seen = {os.stat(d)[1:3] for d in [image_dir, *subs]}  # (inode, device), whatever the path to it
    for sub in subs:
        label = label_of(sub.name)
        if not label:
            raise UserError(f"folder {sub} gives an empty label: name it with letters or digits")
        if label in classes:
            raise UserError(f"folders {classes[label][0]} and {sub} both give the label {label!r}")
        classes[label] = [sub] + image_files(sub, seen)
    if len(classes) < 2:
        raise UserError(f"{image_dir} has {len(classes)} class folder(s); retraining needs at least 2 "
                        f"(one sub-folder of images per category)")
    empty = [f"{label!r} ({files[0]})" for label, files in classes.items() if len(files) == 1]
    if empty:
        raise UserError(f"class {', '.join(empty)} has no images")
    return {label: files[1:] for label, files in classes.items()}


# ---- 2. bottlenecks, cached by content ----------------------------------------------------

def content_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class BottleneckCache:
    """One .npy file per (backbone weights, image content); unreadable entries count as missing."""

    def __init__(self, folder, backbone):
        # The weights' digest is part of the key: other weights installed under the same name
        # (a user's own file, a newer release) never reuse these features.
        digest = (asset_entry(backbone) or {}).get("digest", "")
        self.folder = Path(folder) / (f"{backbone}-{digest[:12]}" if digest else backbone)

    def path(self, digest):
        return self.folder / digest[:2] / f"{digest}.npy"

    def get(self, digest, dim=None):
        try:
            v = np.load(self.path(digest), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        ok = v.ndim == 1 and (dim is None or v.shape[0] == dim) and np.isfinite(v).all()
        return v if ok else None

    def put(self, digest, vector):
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, vector.astype(np.float32))
        os.replace(tmp, target)  # atomic: an interrupted run never leaves half a file


def look_up(files, cache, dim):
    """Hash each file's content and look its features up in the cache (no network, no TensorFlow):
    ({file: content digest}, {file: cached features}, skipped [(file, reason)], seconds taken)."""
    t = time.monotonic()
    digests, found, skipped = {}, {}, []
    for f in files:
        try:
            digests[f] = content_hash(f)
        except OSError as e:
            skipped.append((f, e.strerror))
            continue
        v = cache.get(digests[f], dim)
        if v is not None:
            found[f] = v
    return digests, found, skipped, time.monotonic() - t


def bottlenecks(files, predict, size, dim, cache, batch_size, looked_up=None):
    """(features, kept files, skipped [(file, reason)], counts) for a list of image files.

    predict(images) runs the backbone (size x size images in, dim features out); it is called
    only for images whose features are not in the cache yet. looked_up: what look_up() returned
    for these files, if it was called already.
    """
    from tqdm import tqdm

    digests, found, skipped, _ = looked_up or look_up(files, cache, dim)
    vectors, skipped = dict(found), list(skipped)
    todo = [f for f in digests if f not in found]
    computed = 0
    batch_size = max(1, min(batch_size, len(todo)))
    with tqdm(total=len(todo), desc="bottlenecks", unit="img", disable=None if todo else True) as bar:
        for decoded in decoded_batches(todo, size, batch_size):
            good = [(f, x) for f, x, err in decoded if err is None]
            skipped += [(f, err) for f, x, err in decoded if err is not None]
            if good:
                out = predict_padded(predict, np.stack([x for _, x in good]), batch_size)
                for (f, _), v in zip(good, np.asarray(out)):
                    cache.put(digests[f], v)
                    vectors[f] = v
                computed += len(good)
            bar.update(len(decoded))
    kept = [f for f in files if f in vectors]
    features = np.stack([vectors[f] for f in kept]) if kept else np.zeros((0, dim), np.float32)
    return features, kept, skipped, {"computed": computed, "cached": len(kept) - computed}


# ---- 3. the new final layer -------------------------------------------------------------

def accuracy_and_loss(head, x, y):
    if len(y) == 0:
        return None, None
    p = np.asarray(head(x, training=False))
    loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))))
    return float(np.mean(p.argmax(1) == y)), loss


def fmt(acc, n):
    return "n/a (N=0: no images in this set)" if acc is None else f"{acc * 100:.1f}% (N={n})"


def distorted_features(extractor, images, args, rng):
    """Bottlenecks of randomly distorted copies of images (the slow path: no cache possible)."""
    keras = import_keras()
    layers = []
    if args.flip_left_right:
        layers.append(keras.layers.RandomFlip("horizontal", seed=int(rng.integers(1 << 30))))
    if args.random_scale:
        layers.append(keras.layers.RandomZoom(args.random_scale / 100, seed=int(rng.integers(1 << 30))))
    if args.random_brightness:
        layers.append(keras.layers.RandomBrightness(args.random_brightness / 100, value_range=(0, 255),
                                                    seed=int(rng.integers(1 << 30))))
    x = images
    for layer in layers:
        x = layer(x, training=True)
    return np.asarray(extractor.predict_on_batch(np.asarray(x)))


def plot_curves(history, path):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in ((axes[0], "accuracy", "Accuracy"), (axes[1], "cross_entropy", "Cross entropy")):
        for split, colour in (("train", "tab:blue"), ("validation", "tab:orange")):
            steps = [h["step"] for h in history if h[f"{split}_{key}"] is not None]
            values = [h[f"{split}_{key}"] for h in history if h[f"{split}_{key}"] is not None]
            if values:
                ax.plot(steps, values, color=colour, alpha=0.25, label=f"{split} (raw)")
                ax.plot(steps, ema(values), color=colour, label=f"{split} (smoothed)")
        ax.set_title(title)
        ax.set_xlabel("training step")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(y_true, y_pred, labels, path, title):
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 3, 1.2 * len(labels) + 2))
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=range(len(labels)), display_labels=labels,
                                            ax=ax, colorbar=False, xticks_rotation=45, cmap="Blues")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def make_strategy(kind):
    """The tf.distribute strategy to train under: the default (one device) or MirroredStrategy.

    MirroredStrategy keeps a copy of the model on each GPU, splits every batch between them and
    adds up their gradients. Without GPUs, DL_LOGICAL_CPUS=2 splits the CPU into two logical
    devices, so the same code path can be tried (and tested) anywhere.
    """
    import tensorflow as tf
    if kind == "none":
        return tf.distribute.get_strategy()
    n_cpus = int(os.environ.get("DL_LOGICAL_CPUS", "0") or 0)
    if not tf.config.list_physical_devices("GPU") and n_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n_cpus)
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    return tf.distribute.MirroredStrategy()


def save_atomically(staging, final):
    """Swap the finished staging folder in for final; the old model survives any interruption."""
    import signal
    old = final.with_name(f".{final.name}.old")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        if old.exists():
            shutil.rmtree(old)
        if final.exists():
            final.rename(old)
        staging.rename(final)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    shutil.rmtree(old, ignore_errors=True)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.monotonic()
    image_dir = args.image_dir or dataset_root()
    classes = scan(image_dir)
    labels = sorted(classes)
    for label, files in classes.items():
        if len(files) < MIN_IMAGES_WARN:
            print(f"warning: class {label!r} has only {len(files)} image{'s' * (len(files) > 1)}; "
                  f"{MIN_IMAGES_WARN} or more work better",
                  file=sys.stderr)

    # Check the output folders before the slow part, so a typo costs seconds, not minutes.
    for folder in filter(None, (args.output_dir, args.bottleneck_dir)):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{folder} is a file, not a folder")
        if folder.resolve().is_relative_to(image_dir.resolve()):
            raise UserError(f"{folder} is inside the dataset {image_dir}: it would become a class; "
                            f"write models somewhere else")
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise UserError(f"folder {folder} is not writable")
    staging = Path(tempfile.mkdtemp(prefix=f".{args.name}.tmp-", dir=args.output_dir))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the model should not be
    try:
        return train(args, image_dir, classes, labels, staging, t0)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def train(args, image_dir, classes, labels, staging, t0):
    import multiprocessing
    import signal
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
    backbone = args.backbone or (backbones() or [None])[0]
    if backbone is None:
        raise UserError("no backbone is installed in this image: see dl-assets list")
    spec = backbone_spec(backbone)
    size, dim = spec["input_size"], spec["features"]
    print(f"retrain: {sum(map(len, classes.values()))} files in {len(labels)} classes from {image_dir}; "
          f"backbone {backbone} ({size}x{size}, {dim} features)")
    files = [f for label in labels for f in classes[label]]
    cache = BottleneckCache(args.bottleneck_dir or args.output_dir / ".bottlenecks", backbone)
    # Importing TensorFlow and Keras takes some 2.5 s; hashing the images and reading their cached
    # features, most of a second more. Both at once: a helper process looks the features up
    # meanwhile (a process, not a thread: an import holds Python's lock). Ctrl-C and `docker stop`
    # are this process's to answer: the helper starts with them ignored (for the instant it takes to
    # start it, so are we), and is waited for.
    stop = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        looking_up = helper.submit(look_up, files, cache, dim)  # starts the helper process
    finally:
        for sig, handler in stop.items():
            signal.signal(sig, handler)
    with helper:
        keras = import_keras()
        import tensorflow as tf
        from tensorboard.plugins.scalar import metadata as scalar_metadata
        looked_up = looking_up.result()
    digests, found, _, t_look_up = looked_up
    all_cached = len(found) == len(digests)
    distort = args.flip_left_right or args.random_scale or args.random_brightness
    if all_cached and not distort:
        # TensorFlow has only the new layer to train: thousands of tiny steps, which run faster
        # on one thread than handed between several (a third faster here).
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(args.random_seed)
    rng = np.random.default_rng(args.random_seed)
    strategy = make_strategy(args.distribute)
    replicas = strategy.num_replicas_in_sync
    if args.distribute != "none":
        print(f"distribute: MirroredStrategy, {replicas} replica(s): "
              f"{', '.join(d.split('/')[-1] for d in strategy.extended.worker_devices)}")

    # Building the backbone takes a second or two, in the background: when every bottleneck is
    # cached, the network is needed only at the very end (to save it with the new layer), so the
    # new layer trains meanwhile. extractor() waits for it.
    def build():
        with strategy.scope():
            return load_backbone(backbone)[0]
    extractor = ThreadPoolExecutor(1, thread_name_prefix="backbone").submit(build).result

    def predict(images):
        if args.distribute == "none":
            return extractor().predict_on_batch(images)
        return extractor().predict(images, batch_size=len(images), verbose=0)  # split between the replicas

    if not all_cached:
        extractor()  # needed now: wait for it here, so the time below is the bottlenecks' own
    t_b = time.monotonic()
    x_all, kept, skipped, counts = bottlenecks(files, predict, size, dim, cache, args.batch_size, looked_up)
    t_bottlenecks = t_look_up + time.monotonic() - t_b
    for f, reason in skipped:
        warn_skipped(f, reason)
    label_index = {f: labels.index(label) for label in labels for f in classes[label]}
    y_all = np.array([label_index[f] for f in kept], dtype=np.int64)
    lost = [label for i, label in enumerate(labels) if not (y_all == i).any()]
    if lost:
        raise UserError(f"class {', '.join(map(repr, lost))} has no readable images")
    print(f"bottlenecks: {len(kept)} images, {counts['computed']} computed, {counts['cached']} from cache "
          f"({t_bottlenecks:.1f} s)")

    sets = np.array([which_set(f.relative_to(image_dir).as_posix(), args.testing_percentage,
                               args.validation_percentage) for f in kept])
    split = {s: np.flatnonzero(sets == s) for s in ("training", "validation", "testing")}
    if len(split["training"]) == 0:
        raise UserError("no image fell in the training set: lower --testing_percentage/--validation_percentage")
    untrained = [label for i, label in enumerate(labels) if not (y_all[split["training"]] == i).any()]
    if untrained:
        raise UserError(f"class {', '.join(map(repr, untrained))} has no training image (all fell in the "
                        f"validation or testing set): add images to it")
    for s in ("validation", "testing"):
        missing = [label for i, label in enumerate(labels) if not (y_all[split[s]] == i).any()]
        if missing and len(split[s]):
            print(f"warning: no {s} images for class {', '.join(map(repr, missing))}", file=sys.stderr)
    print(f"split: {len(split['training'])} training, {len(split['validation'])} validation, "
          f"{len(split['testing'])} testing")

    # The new final layer: a softmax over the bottlenecks, trained by plain gradient descent.
    # Its dense layer gives one score ("logit") per class; softmax turns the scores into
    # probabilities. It starts from small random weights, as in the classic retrain.py; their own
    # seed makes them the same on every run (the backbone being built meanwhile draws from the
    # shared random state).
    with strategy.scope():
        start = keras.initializers.TruncatedNormal(stddev=0.001, seed=args.random_seed)
        scores = keras.layers.Dense(len(labels), kernel_initializer=start, name="final_result")
        head = keras.Sequential([keras.Input((dim,)), scores, keras.layers.Softmax(name="probabilities")])
        optimizer = keras.optimizers.SGD(args.learning_rate)
        optimizer.build(head.trainable_variables)

    def cross_entropy_of(y, logits):
        """Cross entropy of the probabilities softmax(logits) for the right labels y, computed
        from the scores in one step: exact where log(softmax) would round, and faster."""
        return keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)

    def replica_step(x, y):
        """One step of what model.fit does, on this replica's share of the batch: predict,
        measure the loss, follow its gradient (the optimizer adds up the replicas' gradients)."""
        ctx = tf.distribute.get_replica_context()
        share = tf.range(ctx.replica_id_in_sync_group, tf.shape(x)[0], ctx.num_replicas_in_sync)
        x, y = tf.gather(x, share), tf.gather(y, share)
        with tf.GradientTape() as tape:
            logits = scores(x, training=True)
            cross_entropy = tf.reduce_mean(cross_entropy_of(y, logits))
            loss = cross_entropy / ctx.num_replicas_in_sync
        grads = tape.gradient(loss, head.trainable_variables)
        optimizer.apply_gradients(zip(grads, head.trainable_variables))
        return loss, tf.reduce_sum(tf.cast(tf.argmax(logits, 1) == y, tf.float32))

    # Without distortions a batch is just indices into the training bottlenecks, which go to
    # TensorFlow once (not a copy of every batch's features at every call).
    train_features = None if distort else tf.constant(x_all[split["training"]])
    val_idx = split["validation"]
    val_features, val_labels = tf.constant(x_all[val_idx]), tf.constant(y_all[val_idx])

    n_val = len(val_idx) if args.validation_batch_size < 0 else min(args.validation_batch_size, len(val_idx))
    logs = staging / "logs"
    writers = {s: tf.summary.create_file_writer(str(logs / s)) for s in ("train", "validation")}
    SCALAR = scalar_metadata.create_summary_metadata(display_name=None, description=None)
    index = tf.TensorSpec([None, None], tf.int64)
    batch = tf.TensorSpec([None, None, x_all.shape[1]], tf.float32) if distort else index

    @tf.function(input_signature=[tf.TensorSpec([], tf.int64), batch, index, tf.TensorSpec([None], tf.bool), index])
    def train_steps(first, xs, ys, report, val_batches):
        """len(xs) training steps in one call: a graph loop, as 4,000 calls from Python would cost
        seconds. xs: batches of features (distortions) or of indices into the training set.
        After each step i with report[i] set: one row with that step's cross entropy and accuracy
        on its training batch, then accuracy and cross entropy on the next of val_batches; the
        same numbers go to TensorBoard, at step first + i."""
        rows = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=(4,))
        for i in tf.range(tf.shape(xs)[0]):
            x = xs[i] if distort else tf.gather(train_features, xs[i])
            step_loss, correct = strategy.run(replica_step, args=(x, ys[i]))
            if report[i]:
                loss = strategy.reduce("SUM", step_loss, axis=None)
                accuracy = strategy.reduce("SUM", correct, axis=None) / tf.cast(tf.shape(ys[i])[0], tf.float32)
                vb = val_batches[rows.size()]
                vy = tf.gather(val_labels, vb)
                logits = scores(tf.gather(val_features, vb), training=False)
                val_accuracy = tf.reduce_mean(tf.cast(tf.argmax(logits, 1) == vy, tf.float32))
                val_loss = tf.reduce_mean(cross_entropy_of(vy, logits))
                rows = rows.write(rows.size(), tf.stack([loss, accuracy, val_accuracy, val_loss]))
                for name, a, l in (("train", accuracy, loss), ("validation", val_accuracy, val_loss)):
                    if name == "train" or n_val:
                        # What tf.summary.scalar writes, without the loop's name in the tag.
                        with writers[name].as_default(step=first + tf.cast(i, tf.int64)):
                            tf.summary.write("accuracy", a, metadata=SCALAR)
                            tf.summary.write("cross_entropy", l, metadata=SCALAR)
        return rows.stack()

    if distort:
        print("distortions: on; every step runs the backbone on new distorted images (no cache: slow)")
        train_images = np.stack([load_image(kept[i], size) for i in split["training"]])

    history = []
    train_idx = split["training"]
    steps = args.how_many_training_steps
    # Report at step 0, every eval_step_interval steps, and at the last step (as the classic did).
    report = np.zeros(steps, bool)
    report[[0, steps - 1, *range(0, steps, args.eval_step_interval)]] = True
    # Steps go to the graph in chunks, so the lines appear as training goes and memory stays
    # small (with distortions each step carries its own features).
    chunk = 10 if distort else 1000
    for first in range(0, steps, chunk):
        n = min(chunk, steps - first)
        # Random training batches, with replacement, and a random validation batch for each report
        # (as the classic did); the seed makes them the same on every run.
        batches = rng.integers(0, len(train_idx), (n, args.train_batch_size))
        xs = np.stack([distorted_features(extractor(), train_images[b], args, rng) for b in batches]) if distort else batches
        at = first + np.flatnonzero(report[first:first + n])
        val_batches = np.array([rng.permutation(len(val_idx))[:n_val] for _ in at], np.int64).reshape(len(at), n_val)
        rows = train_steps(first, xs, y_all[train_idx[batches]], report[first:first + n], val_batches).numpy()
        for step, (loss, acc, val_acc, val_loss) in zip(at, rows.tolist()):
            val_acc, val_loss = (val_acc, val_loss) if n_val else (None, None)
            print(f"Step {step}: Train accuracy = {acc * 100:.1f}%")
            print(f"Step {step}: Cross entropy = {loss:f}")
            print(f"Step {step}: Validation accuracy = {fmt(val_acc, n_val)}")
            history.append({"step": int(step), "train_accuracy": acc, "train_cross_entropy": loss,
                            "validation_accuracy": val_acc, "validation_cross_entropy": val_loss})
    for w in writers.values():
        w.close()

    test_idx = split["testing"]
    test_acc, _ = accuracy_and_loss(head, x_all[test_idx], y_all[test_idx])
    print(f"Final test accuracy = {fmt(test_acc, len(test_idx))}")
    report_idx, report_name = (test_idx, "test") if len(test_idx) else (val_idx, "validation")
    pred = np.asarray(head(x_all[report_idx], training=False)).argmax(1) if len(report_idx) else np.array([], int)
    if args.print_misclassified_test_images and len(test_idx):
        print("=== MISCLASSIFIED TEST IMAGES ===")
        for i, p in zip(report_idx, pred):
            if p != y_all[i]:
                print(f"{kept[i]}  {labels[p]}")

    # Everything goes to the staging folder first, then replaces models/<name> in one step.
    model = keras.Model(extractor().input, head(extractor().output), name=f"retrained_{backbone}")
    model.save(staging / "model.keras")
    (staging / "labels.txt").write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    plot_curves(history, staging / "learning_curves.png")
    if len(report_idx):
        plot_confusion(y_all[report_idx], pred, labels, staging / "confusion_matrix.png",
                       f"{report_name} set, {len(report_idx)} images")
    metrics = {
        "backbone": backbone, "replicas": replicas, "input_size": size, "labels": labels, "image_dir": str(image_dir),
        "images": {"total": len(kept), "skipped": len(skipped),
                   **{s: int(len(i)) for s, i in split.items()},
                   "per_class": dict(Counter(labels[i] for i in y_all))},
        "bottlenecks": {**counts, "seconds": round(t_bottlenecks, 3)},
        "final_test_accuracy": test_acc, "test_images": int(len(test_idx)),
        "final_validation_accuracy": history[-1]["validation_accuracy"],
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "seconds": round(time.monotonic() - t0, 3),
    }
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    final = args.output_dir / args.name
    save_atomically(staging, final)
    print(f"retrain: model, labels, logs and plots in {final}/ ({time.monotonic() - t0:.1f} s); "
          f"try: ./evaluate.sh --model_dir {final} IMAGE")
    return 0


if __name__ == "__main__":
    main_guard("retrain", main)
