"""The session of ./retrain.sh: what makes a first run quick and a cached re-run take seconds.

A lesson needs none of this to be right. `Session` imports TensorFlow and Keras (some 2.5 s) while
a helper process hashes the images and reads their cached features (a process, not a thread: an
import holds Python's lock); builds the backbone in a thread, since a cached re-run needs it only to
save the model at the end; runs TensorFlow on one thread when only the new layer trains (thousands
of tiny steps run a third faster so); and sets up tf.distribute's MirroredStrategy when asked.
Its `bottlenecks` are every image's features, cached or computed (engine="onnx": by ONNX Runtime
on the converted backbone, dlkit.engine; the Keras backbone then only saves the model);
`distorted_features`, those of randomly distorted copies (Keras's preprocessing layers, then the backbone).
"""

import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

from . import bottlenecks
from .assets import import_keras, load_backbone
from .engine import predictor
from .errors import warn_skipped
from .images import load_image


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


class Session:
    """Keras imported, the cache looked up, the backbone on its way: session.keras, .strategy,
    .extractor() (waits for the backbone), .bottlenecks(), .train()."""

    def __init__(self, backbone, spec, files, cache, distribute="none", seed=0, distort=False, engine="tensorflow"):
        self.spec, self.files, self.cache, self.distribute = spec, files, cache, distribute
        self.engine, self.onnx = engine, predictor(backbone, "onnx")  # made when first needed
        # Ctrl-C and `docker stop` are this process's to answer: the helper starts with them
        # ignored (for the instant it takes to start it, so are we), and is waited for.
        stop = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            looking_up = helper.submit(bottlenecks.look_up, files, cache, spec["features"])
        finally:
            for sig, handler in stop.items():
                signal.signal(sig, handler)
        with helper:
            self.keras = import_keras()
            import tensorflow as tf

            self.looked_up = looking_up.result()
        self.all_cached = len(self.looked_up.found) == len(self.looked_up.digests)
        if self.all_cached and not distort:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        self.keras.utils.set_random_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.strategy = make_strategy(distribute)
        self.replicas = self.strategy.num_replicas_in_sync
        if distribute != "none":
            print(
                f"distribute: MirroredStrategy, {self.replicas} replica(s): "
                f"{', '.join(d.split('/')[-1] for d in self.strategy.extended.worker_devices)}"
            )

        def build():
            with self.strategy.scope():
                return load_backbone(backbone)[0]

        self.extractor = ThreadPoolExecutor(1, thread_name_prefix="backbone").submit(build).result

    def predict(self, images):
        if self.engine == "onnx":
            return self.onnx(images)
        if self.distribute == "none":
            return self.extractor().predict_on_batch(images)
        return self.extractor().predict(images, batch_size=len(images), verbose=0)  # split between the replicas

    def bottlenecks(self, batch_size):
        """(features, kept files, skipped, counts, seconds) of every file, the cached ones read by
        the helper, the others computed now; skipped files get a warning line each."""
        if not self.all_cached and self.engine != "onnx":
            self.extractor()  # needed now: wait for it here, so the time below is the bottlenecks' own
        t = time.monotonic()
        x, kept, skipped, counts = bottlenecks.compute(
            self.files,
            self.predict,
            self.spec["input_size"],
            self.spec["features"],
            self.cache,
            batch_size,
            self.looked_up,
        )
        for f, reason in skipped:
            warn_skipped(f, reason)
        return x, kept, skipped, counts, self.looked_up.seconds + time.monotonic() - t

    def distortions(self, flip_left_right=False, random_scale=0, random_brightness=0):
        """Keras's preprocessing layers for random flips, zoom and brightness (in percent), seeded."""
        keras, rng, layers = self.keras, self.rng, []
        if flip_left_right:
            layers.append(keras.layers.RandomFlip("horizontal", seed=int(rng.integers(1 << 30))))
        if random_scale:
            layers.append(keras.layers.RandomZoom(random_scale / 100, seed=int(rng.integers(1 << 30))))
        if random_brightness:
            layers.append(
                keras.layers.RandomBrightness(
                    random_brightness / 100, value_range=(0, 255), seed=int(rng.integers(1 << 30))
                )
            )
        return keras.Sequential(layers, name="distortions")

    def distorted_features(self, images, distortions):
        """Bottlenecks of randomly distorted copies of images (the slow path: no cache possible)."""
        x = distortions(images, training=True)
        return np.asarray(self.predict(np.asarray(x)))

    def training_data(
        self, x, y, files, steps, batch_size, every, flip_left_right=False, random_scale=0, random_brightness=0
    ):
        """(data for fit, fit's steps per execution): random batches of the training bottlenecks x
        (labels y), grouped by report interval (dlkit.training), 100 intervals per call from Python;
        with distortions, features of distorted copies of the images files, one interval per call
        (each step runs the backbone: the lines appear as it goes)."""
        from . import training  # Keras is imported by now

        if self.replicas > 1:
            # One training step per element of data, one per call from Python (tf.distribute in
            # Keras's graph loop fails: MirroredStrategy is for GPUs, whose steps are no longer tiny).
            return training.interval_batches(x, y, steps, batch_size, 1, self.rng), 1
        if not (flip_left_right or random_scale or random_brightness):
            return training.interval_batches(x, y, steps, batch_size, every, self.rng), max(1, 1000 // every)
        print("distortions: on; every step runs the backbone on new distorted images (no cache: slow)")
        distortions = self.distortions(flip_left_right, random_scale, random_brightness)
        images = np.stack([load_image(f, self.spec["input_size"]) for f in files])
        batches = training.distorted_batches(
            images, y, steps, batch_size, every, self.rng, lambda b: self.distorted_features(b, distortions)
        )
        return batches, 1
