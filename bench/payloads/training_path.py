"""One training path of the new final layer, timed inside the image (bench/bench_training_path.py).

    python training_path.py VARIANT LOGS

The same 3,000 bottlenecks (1,280 features, 4 classes, generated with seed 0), the same split, the
same 4,000 steps of 100, SGD at 0.01, one TensorFlow thread (as a cached re-run of ./retrain.sh):
- classic-head  the lesson's: dlkit.training.ClassicHead, whose train_step runs a report interval
                (10 steps) in the graph, fit(steps_per_execution=100), ClassicReport's lines
- fit-epochs    model.fit, steps_per_execution=10, an epoch per report (validation_data), the
                classic lines from a callback (EpochLines), keras.callbacks.TensorBoard
- fit-callback  model.fit of one 4,000-step epoch, steps_per_execution=10, a batch-end callback
                that checks a validation batch and prints the classic lines
- fit-bare      model.fit, steps_per_execution=1000, no report at all: the floor of fit
Prints one JSON line: the variant, its training seconds, its test accuracy.
"""

import contextlib
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from dlkit import reports, training
from dlkit.assets import import_keras

VARIANT, LOGS = sys.argv[1], Path(sys.argv[2])
STEPS, INTERVAL, BATCH = 4000, 10, 100
keras = import_keras()
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
rng = np.random.default_rng(0)
n, d, k = 3000, 1280, 4
y = rng.integers(0, k, n)
x = (rng.normal(size=(k, d))[y] * 0.05 + rng.normal(size=(n, d))).astype(np.float32)
order = rng.permutation(n)
split = {"training": order[:2400], "validation": order[2400:2700], "testing": order[2700:]}
train, val = split["training"], split["validation"]
start = keras.initializers.TruncatedNormal(stddev=0.001, seed=0)
scores = keras.layers.Dense(k, kernel_initializer=start, name="final_result")
head = keras.Sequential([keras.Input((d,)), scores, keras.layers.Softmax(name="probabilities")])


def batches(index, size, count):
    """A dataset of random batches (features, labels) of the rows index of x, y."""
    features, labels = tf.constant(x[index]), tf.constant(y[index])
    picks = rng.integers(0, len(index), (count, size))
    return tf.data.Dataset.from_tensor_slices(picks).map(lambda b: (tf.gather(features, b), tf.gather(labels, b)))


def compile_head(steps_per_execution, metrics=("accuracy",)):
    head.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=list(metrics),
        steps_per_execution=steps_per_execution,
    )


class EpochLines(keras.callbacks.Callback):
    """After every epoch of INTERVAL steps: the classic lines, from fit's own logs."""

    def __init__(self, history):
        super().__init__()
        self.history = history

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * INTERVAL - 1
        self.history.append(
            reports.step_lines(step, logs["accuracy"], logs["loss"], logs["val_accuracy"], logs["val_loss"], BATCH)
        )


class Lines(keras.callbacks.Callback):
    """After each execution of INTERVAL steps: a validation batch, the classic lines."""

    def __init__(self, history):
        super().__init__()
        self.history, self.val = history, iter(batches(val, BATCH, STEPS // INTERVAL + 1))

    def on_train_batch_end(self, batch, logs=None):
        vx, vy = next(self.val)
        p = np.asarray(scores(vx))
        accuracy = float(np.mean(p.argmax(1) == vy.numpy()))
        loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(vy, p, from_logits=True)))
        self.history.append(reports.step_lines(batch, logs["accuracy"], logs["loss"], accuracy, loss, BATCH))


history = []
t = time.monotonic()
with contextlib.redirect_stdout(io.StringIO()):
    if VARIANT == "fit-epochs":
        compile_head(INTERVAL)
        head.fit(
            batches(train, BATCH, STEPS),
            epochs=STEPS // INTERVAL,
            steps_per_epoch=INTERVAL,
            verbose=0,
            validation_data=batches(val, BATCH, STEPS // INTERVAL),
            validation_steps=1,
            callbacks=[EpochLines(history), keras.callbacks.TensorBoard(LOGS)],
        )
    elif VARIANT == "fit-callback":
        compile_head(INTERVAL)
        head.fit(batches(train, BATCH, STEPS), epochs=1, steps_per_epoch=STEPS, verbose=0, callbacks=[Lines(history)])
    elif VARIANT == "classic-head":
        head = training.ClassicHead(
            [keras.Input((d,)), scores, keras.layers.Softmax(name="probabilities")],
            (x[val], y[val]),
            BATCH,
            STEPS,
            INTERVAL,
        )
        compile_head(1000 // INTERVAL, metrics=())
        head.fit(
            training.interval_batches(x[train], y[train], STEPS, BATCH, INTERVAL, rng),
            verbose=0,
            callbacks=[training.ClassicReport(history, LOGS)],
        )
    elif VARIANT == "fit-bare":
        compile_head(1000)
        head.fit(batches(train, BATCH, STEPS), epochs=1, steps_per_epoch=STEPS, verbose=0)
    else:
        sys.exit(f"training_path.py: unknown variant {VARIANT!r}")
seconds = time.monotonic() - t
test = split["testing"]
accuracy = float(np.mean(np.asarray(head(x[test])).argmax(1) == y[test]))
print(json.dumps({"variant": VARIANT, "seconds": seconds, "test_accuracy": accuracy, "reports": len(history)}))
