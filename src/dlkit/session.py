"""The session of ./retrain.sh: what makes a first run quick and a cached re-run take seconds.

A lesson needs none of this to be right. `Session` imports TensorFlow and Keras (some 2.5 s) while
a helper process (`Helper`: a process, not a thread, since an import holds Python's lock) hashes
the images and reads their cached features and, with ONNX Runtime as the engine, computes the
missing ones too, so that a first run's bottlenecks and the import overlap; then, idle, it draws
the plots while the model is saved (`meanwhile`: matplotlib is imported there). It builds the backbone
in a thread, since with ONNX Runtime, or on a cached re-run, it only saves the model at the end;
runs TensorFlow on one thread when only the new layer trains (thousands of tiny steps run a third
faster so); and sets up tf.distribute's MirroredStrategy when asked.
Its `bottlenecks` are every image's features, cached or computed (engine="onnx": by ONNX Runtime
on the converted backbone, dlkit.engine); `distorted_features`, those of randomly distorted copies
(Keras's preprocessing layers, then the backbone).
"""

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import bottlenecks, reports
from .assets import import_keras, load_backbone
from .engine import predictor
from .errors import Killed, warn_skipped
from .images import load_image


class Helper:
    """fn(*args) run in a helper process (spawned: TensorFlow is not imported there) while this
    process goes on; .submit(fn, *args) gives it more to do, in turn; .result() waits for the next
    answer, in order (or raises its exception); .close() lets it end, .stop() ends it now.

    Ctrl-C and `docker stop` are this process's to answer: the helper starts with them ignored
    (for the instant it takes to start it, so are we); once running, it stops on .stop()'s SIGTERM,
    removing the cache entry it was writing, as any interrupted run does. A pipe, not a pool's
    queues: nothing is left for Python's resource tracker to warn about when it is stopped."""

    def __init__(self, fn, *args):
        context = multiprocessing.get_context("spawn")
        self.pipe, theirs = context.Pipe()
        ignored = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            # The first job goes with the process: the pipe is for what comes once it runs.
            self.process = context.Process(target=_helper_main, args=(theirs, fn, args), daemon=True)
            self.process.start()
        finally:
            for sig, handler in ignored.items():
                signal.signal(sig, handler)
        theirs.close()

    def submit(self, fn, *args):
        self._send((fn, args))

    def result(self):
        try:
            ok, value = self.pipe.recv()
        except EOFError:
            raise self._ended() from None
        if not ok:
            raise value
        return value

    def close(self):
        self._send(None)  # it ends on its own, not waited for (its exit takes a third of a second)

    def _send(self, job):
        try:
            self.pipe.send(job)
        except (BrokenPipeError, ConnectionResetError):
            raise self._ended() from None

    def _ended(self):
        """The error for a helper gone without an answer: killed (the kernel's out-of-memory killer
        picks the largest process, sometimes this one) is one line and exit 137, as if we had been."""
        self.process.join()
        if self.process.exitcode == -signal.SIGKILL:
            why = "most likely for want of memory: give Docker more memory (docker run --memory 768m or more)"
            return Killed(f"its helper process was killed (SIGKILL), {why}")
        return RuntimeError(f"the helper process ended without an answer (exit {self.process.exitcode})")

    def stop(self):
        self.process.terminate()
        self.process.join(0.5)
        if self.process.is_alive():  # still starting, its signals ignored
            self.process.kill()
            self.process.join()


def _helper_main(pipe, fn, args):
    def stop(signum, frame):
        # Told once is enough: `docker stop` signals every process, then the program its helper.
        # Ignored from here on, before the raise: a second one can't interrupt the exit below.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # tqdm's default lock holds a semaphore that Python's resource tracker follows: if this process
    # is killed, the tracker warns of it as leaked when the program ends. One process: a thread lock.
    try:
        from tqdm import tqdm
    except ImportError:  # a host without it (tests/unit)
        pass
    else:
        tqdm.set_lock(threading.RLock())
    try:
        job = (fn, args)
        while job is not None:
            fn, args = job
            try:
                answer = (True, fn(*args))
            except Exception as e:
                answer = (False, e)
            pipe.send(answer)
            job = pipe.recv()
        # Closed, ending: the SIGTERM multiprocessing's exit sends to a daemonic process still
        # here can't turn a quiet exit into an interrupted one.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except KeyboardInterrupt:
        # Stopped: nobody waits for an answer. An exit, not os._exit: what the process holds is
        # released (tqdm's lock: else Python's resource tracker warns of a leaked semaphore).
        sys.exit(130)
    except EOFError:  # the program has ended
        pass


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

    def __init__(
        self, backbone, spec, files, cache, distribute="none", seed=0, distort=False, engine="tensorflow", batch_size=32
    ):
        self.spec, self.files, self.cache, self.distribute = spec, files, cache, distribute
        self.engine, self.batch_size = engine, batch_size
        self.onnx = predictor(backbone, "onnx")  # made when first needed
        self.computed = None  # (features, kept, skipped, counts, seconds), when the helper computed them
        self.pending = 0  # jobs given to the helper by .meanwhile
        if engine == "onnx":
            self.helper = helper = Helper(bottlenecks.compute_by_engine, files, backbone, spec, cache, batch_size)
        else:
            self.helper = helper = Helper(bottlenecks.look_up, files, cache, spec["features"])
        try:
            # Imported in a thread and waited for here: a Ctrl-C or `docker stop` during the import's
            # long C calls is answered at once (a signal is only handled between Python's steps).
            importing = ThreadPoolExecutor(1, thread_name_prefix="import")
            self.keras = importing.submit(import_keras, lean=True).result()
            importing.shutdown()
            import tensorflow as tf

            if engine != "onnx":
                self.looked_up = helper.result()
            # TensorFlow on one thread when it trains the new layer only (thousands of tiny steps
            # run a third faster so): set before it starts, so before the backbone is built.
            if not distort and (engine == "onnx" or self._all_cached()):
                tf.config.threading.set_intra_op_parallelism_threads(1)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            self.keras.utils.set_random_seed(seed)
            self.rng = np.random.default_rng(seed)
            self.strategy = make_strategy(distribute)

            def build():
                with self.strategy.scope():
                    return load_backbone(backbone)[0]

            # Built in a thread meanwhile: a cached re-run, or ONNX Runtime, needs it only to save the model.
            self.extractor = ThreadPoolExecutor(1, thread_name_prefix="backbone").submit(build).result
            if engine == "onnx":
                self.looked_up, self.computed = helper.result()
        except BaseException:
            helper.stop()  # not waiting for its bottlenecks
            raise
        self.replicas = self.strategy.num_replicas_in_sync
        if distribute != "none":
            print(
                f"distribute: MirroredStrategy, {self.replicas} replica(s): "
                f"{', '.join(d.split('/')[-1] for d in self.strategy.extended.worker_devices)}"
            )

    def _all_cached(self):
        return len(self.looked_up.found) == len(self.looked_up.digests)

    def predict(self, images):
        if self.engine == "onnx":
            return self.onnx(images)
        if self.distribute == "none":
            return self.extractor().predict_on_batch(images)
        return self.extractor().predict(images, batch_size=len(images), verbose=0)  # split between the replicas

    def bottlenecks(self):
        """(features, kept files, skipped, counts, seconds) of every file, the cached ones read by
        the helper, the others computed now (by the helper, with ONNX Runtime); skipped files get
        a warning line each."""
        if self.computed is not None:
            x, kept, skipped, counts, seconds = self.computed
        else:
            if not self._all_cached():
                self.extractor()  # needed now: wait for it here, so the time below is the bottlenecks' own
            t = time.monotonic()
            x, kept, skipped, counts = bottlenecks.compute(
                self.files,
                self.predict,
                self.spec["input_size"],
                self.spec["features"],
                self.cache,
                self.batch_size,
                self.looked_up,
            )
            seconds = self.looked_up.seconds + time.monotonic() - t
        for f, reason in skipped:
            warn_skipped(f, reason)
        # The helper is idle from here: it imports what the plots need while the new layer trains.
        self.meanwhile(reports.import_plotting)
        return x, kept, skipped, counts, seconds

    def meanwhile(self, fn, *args):
        """fn(*args) run by the helper process while this one goes on (the plots, while the model
        is saved); .finish() waits for it."""
        self.helper.submit(fn, *args)
        self.pending += 1

    def finish(self):
        """Wait for what the helper was given (its errors are raised here), then let it end."""
        try:
            for _ in range(self.pending):
                self.helper.result()
        finally:
            self.pending = 0
            self.helper.close()

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
