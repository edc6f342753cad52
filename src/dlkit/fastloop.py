"""The fast path of ./retrain.sh: what makes a first run quick and a cached re-run take seconds.

A lesson needs none of this to be right; `examples/retrain.py --simple` trains the same layer
with a plain `model.fit`. What it does, and why:
- `Session` imports TensorFlow and Keras (some 2.5 s) while a helper process hashes the images and
  reads their cached features (a process, not a thread: an import holds Python's lock); builds the
  backbone in a thread, since a cached re-run needs it only to save the model at the end; runs
  TensorFlow on one thread when only the new layer trains (thousands of tiny steps run a third
  faster so); and sets up tf.distribute's MirroredStrategy when asked.
- `Session.train`: the training steps in a TensorFlow graph loop, a thousand per call (4,000 calls
  from Python would cost seconds), with validation and TensorBoard scalars inside the loop.
"""

import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

from . import bottlenecks
from .assets import import_keras, load_backbone
from .errors import warn_skipped
from .images import load_image
from .reports import step_lines


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

    def __init__(self, backbone, spec, files, cache, distribute="none", seed=0, distort=False):
        self.spec, self.files, self.cache, self.distribute = spec, files, cache, distribute
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
        if self.distribute == "none":
            return self.extractor().predict_on_batch(images)
        return self.extractor().predict(images, batch_size=len(images), verbose=0)  # split between the replicas

    def bottlenecks(self, batch_size):
        """(features, kept files, skipped, counts, seconds) of every file, the cached ones read by
        the helper, the others computed now; skipped files get a warning line each."""
        if not self.all_cached:
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

    def distorted_features(self, images, args):
        """Bottlenecks of randomly distorted copies of images (the slow path: no cache possible)."""
        keras, rng, layers = self.keras, self.rng, []
        if args.flip_left_right:
            layers.append(keras.layers.RandomFlip("horizontal", seed=int(rng.integers(1 << 30))))
        if args.random_scale:
            layers.append(keras.layers.RandomZoom(args.random_scale / 100, seed=int(rng.integers(1 << 30))))
        if args.random_brightness:
            layers.append(
                keras.layers.RandomBrightness(
                    args.random_brightness / 100, value_range=(0, 255), seed=int(rng.integers(1 << 30))
                )
            )
        x = images
        for layer in layers:
            x = layer(x, training=True)
        return np.asarray(self.extractor().predict_on_batch(np.asarray(x)))

    def train(self, head, scores, optimizer, x_all, y_all, split, kept, args, logs):
        """Train head (its layer scores: one score per class) with optimizer, as retrain's args
        say: random batches of training bottlenecks, a report every eval_step_interval steps.
        Returns the history of the reported steps; TensorBoard logs go to logs/{train,validation}."""
        import tensorflow as tf
        from tensorboard.plugins.scalar import metadata as scalar_metadata

        keras, strategy, rng = self.keras, self.strategy, self.rng
        distort = bool(args.flip_left_right or args.random_scale or args.random_brightness)
        with strategy.scope():
            optimizer.build(head.trainable_variables)

        def cross_entropy_of(y, logits):
            """Cross entropy of softmax(logits) for the labels y, from the scores in one step."""
            return keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)

        def replica_step(x, y):
            """One step of what model.fit does, on this replica's share of the batch: predict,
            measure the loss, follow its gradient (the optimizer adds up the replicas' gradients)."""
            ctx = tf.distribute.get_replica_context()
            share = tf.range(ctx.replica_id_in_sync_group, tf.shape(x)[0], ctx.num_replicas_in_sync)
            x, y = tf.gather(x, share), tf.gather(y, share)
            with tf.GradientTape() as tape:
                logits = scores(x, training=True)
                loss = tf.reduce_mean(cross_entropy_of(y, logits)) / ctx.num_replicas_in_sync
            grads = tape.gradient(loss, head.trainable_variables)
            optimizer.apply_gradients(zip(grads, head.trainable_variables))
            return loss, tf.reduce_sum(tf.cast(tf.argmax(logits, 1) == y, tf.float32))

        # Without distortions a batch is just indices into the training bottlenecks, which go to
        # TensorFlow once (not a copy of every batch's features at every call).
        train_idx, val_idx = split["training"], split["validation"]
        train_features = None if distort else tf.constant(x_all[train_idx])
        val_features, val_labels = tf.constant(x_all[val_idx]), tf.constant(y_all[val_idx])
        n_val = len(val_idx) if args.validation_batch_size < 0 else min(args.validation_batch_size, len(val_idx))
        writers = {s: tf.summary.create_file_writer(str(logs / s)) for s in ("train", "validation")}
        scalar = scalar_metadata.create_summary_metadata(display_name=None, description=None)
        index = tf.TensorSpec([None, None], tf.int64)
        batch = tf.TensorSpec([None, None, x_all.shape[1]], tf.float32) if distort else index

        @tf.function(input_signature=[tf.TensorSpec([], tf.int64), batch, index, tf.TensorSpec([None], tf.bool), index])
        def train_steps(first, xs, ys, report, val_batches):
            """len(xs) training steps in one call. xs: batches of features (distortions) or of
            indices into the training set. After each step i with report[i] set: one row with that
            step's cross entropy and accuracy on its batch, then accuracy and cross entropy on the
            next of val_batches; the same numbers go to TensorBoard, at step first + i."""
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
                    for name, a, xent in (("train", accuracy, loss), ("validation", val_accuracy, val_loss)):
                        if name == "train" or n_val:
                            # What tf.summary.scalar writes, without the loop's name in the tag.
                            with writers[name].as_default(step=first + tf.cast(i, tf.int64)):
                                tf.summary.write("accuracy", a, metadata=scalar)
                                tf.summary.write("cross_entropy", xent, metadata=scalar)
            return rows.stack()

        if distort:
            print("distortions: on; every step runs the backbone on new distorted images (no cache: slow)")
            train_images = np.stack([load_image(kept[i], self.spec["input_size"]) for i in train_idx])
        history = []
        steps = args.how_many_training_steps
        # Report at step 0, every eval_step_interval steps, and at the last step (as the classic did).
        report = np.zeros(steps, bool)
        report[[0, steps - 1, *range(0, steps, args.eval_step_interval)]] = True
        # Steps go to the graph in chunks, so the lines appear as training goes and memory stays
        # small (with distortions each step carries its own features).
        chunk = 10 if distort else 1000
        for first in range(0, steps, chunk):
            n = min(chunk, steps - first)
            # Random training batches, with replacement, and a random validation batch for each
            # report (as the classic did); the seed makes them the same on every run.
            batches = rng.integers(0, len(train_idx), (n, args.train_batch_size))
            xs = np.stack([self.distorted_features(train_images[b], args) for b in batches]) if distort else batches
            at = first + np.flatnonzero(report[first : first + n])
            val_batches = np.array([rng.permutation(len(val_idx))[:n_val] for _ in at], np.int64).reshape(
                len(at), n_val
            )
            rows = train_steps(first, xs, y_all[train_idx[batches]], report[first : first + n], val_batches).numpy()
            history += [
                step_lines(step, acc, loss, val_acc, val_loss, n_val)
                for step, (loss, acc, val_acc, val_loss) in zip(at, rows.tolist())
            ]
        for w in writers.values():
            w.close()
        return history
