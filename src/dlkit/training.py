"""Training the new final layer with Keras's `fit`, and the classic retrain.py report every N steps.

keras.io trains with `model.fit`, and so does the lesson. What `fit` does not do alone is what the
classic retrain.py printed: every 10 steps, that step's train accuracy and cross entropy, and the
accuracy on a random validation batch. Measured (bench/README.md), a `fit` step per training step
costs a third more than the whole training for these tiny steps, and a callback hears from `fit`
once per execution only. So:
- `ClassicHead`, a `keras.Sequential` (the new layer and its softmax), has its own `train_step`:
  each of `fit`'s steps is one report interval, the 10 training steps (gradient descent on one
  random batch each) run in the graph, and on a report step it measures the classic numbers, keeps
  them in a buffer and writes them to TensorBoard;
- `ClassicReport`, the callback, prints the buffer's rows as the classic lines after each
  execution of `fit` (`compile(steps_per_execution=...)`), keeps them as the run's history, and
  opens and closes the TensorBoard writers (logs/train, logs/validation);
- `interval_batches`: the data, random batches of the training bottlenecks with replacement, as
  the classic did (the seed makes them the same on every run), grouped by report interval;
  `distorted_batches`: the same from images distorted afresh (the slow path: no cache).
Under `tf.distribute.MirroredStrategy` Keras splits each batch between the replicas; the numbers
are summed across them, so every replica keeps the same rows.
"""

import numpy as np
import tensorflow as tf
from tensorboard.plugins.scalar import metadata as scalar_metadata

from .assets import import_keras
from .reports import report_steps, step_lines

keras = import_keras()
SCALAR = scalar_metadata.create_summary_metadata(display_name=None, description=None)


class ClassicHead(keras.Sequential):
    """A keras.Sequential whose `fit` steps are report intervals of the classic retrain.py.

    validation: (features, labels) of the validation set; val_batch: how many of them each report
    checks (all if -1), picked at random each time; steps, every: the training's length and its
    report interval; seed: of the validation picks.
    """

    def __init__(self, layers, validation, val_batch, steps, every, seed=0, name="head"):
        super().__init__(layers, name=name)
        self.val_x, self.val_y = tf.constant(validation[0]), tf.constant(validation[1], tf.int64)
        n = len(validation[1])
        self.n_val = n if val_batch < 0 else min(val_batch, n)
        self.reported = report_steps(steps, every)
        self.every, self.last, self.seed = every, steps - 1, seed
        self.writers = {}  # TensorBoard's, opened by ClassicReport
        # One row per report step: train cross entropy and accuracy, validation accuracy and cross
        # entropy. Each replica keeps its own copy (they are the same); not a weight of the model.
        with tf.init_scope():
            self.rows = tf.Variable(
                tf.zeros([len(self.reported), 4]),
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
                name="report_rows",
            )

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        # Keras builds the compiled loss from a batch of fit's data, but here a batch is a report
        # interval, which the model does not take: build it now, from a batch of one.
        x = tf.zeros([1, self.input_shape[-1]])
        self.compute_loss(x=x, y=tf.zeros([1], tf.int64), y_pred=self(x), training=False)

    def train_step(self, data):
        """One report interval: for each of its batches (x: [batch, interval, features]), what
        Keras's own train_step does (predict, loss, gradients, the optimizer's update), then, on a
        report step, the classic measures."""
        xs, ys = data
        ys = tf.cast(ys, tf.int64)
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync

        def one_step(i, y_pred):
            x, y = xs[:, i], ys[:, i]
            step = tf.cast(self.optimizer.iterations, tf.int64)
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
                scaled = self.optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            is_report = tf.logical_or(tf.equal(step % self.every, 0), tf.equal(step, self.last))
            if replicas > 1:  # the measures add up the replicas' shares, which no branch may do: every step
                self.report(step, self.measures(y, y_pred), is_report)
            else:
                tf.cond(is_report, lambda: self.report(step, self.measures(y, y_pred)), lambda: False)
            return i + 1, y_pred

        start = tf.zeros([tf.shape(xs)[0], self.output_shape[-1]])
        if replicas > 1:
            # The replicas' gradients are added up at each step, which cannot happen inside a
            # graph loop: under tf.distribute, an element of fit's data is one training step.
            _, y_pred = one_step(0, start)
        else:
            _, y_pred = tf.while_loop(lambda i, _: i < tf.shape(xs)[1], one_step, (tf.constant(0), start))
        # Keras's metrics (fit's logs), of the interval's last batch.
        return self.compute_metrics(xs[:, -1], ys[:, -1], y_pred)

    def measures(self, y, y_pred):
        """A step's cross entropy and right answers on its batch, and its size, over all replicas."""
        ce = keras.losses.sparse_categorical_crossentropy(y, y_pred)
        right = tf.cast(tf.argmax(y_pred, 1) == y, tf.float32)
        n = tf.cast(tf.shape(y)[0], tf.float32)
        return tf.distribute.get_replica_context().all_reduce(
            "SUM", tf.stack([tf.reduce_sum(ce), tf.reduce_sum(right), n])
        )

    def report(self, step, measures, is_report=True):
        """The row of a report step: into the buffer, and to TensorBoard (if is_report)."""
        loss, right, n = tf.unstack(measures)
        row = [loss / n, right / n, 0.0, 0.0]
        if self.n_val:
            # The same random validation batch on every replica: a stateless pick, by the step.
            seed = tf.stack([tf.constant(self.seed, tf.int64), step])
            pick = tf.argsort(tf.random.stateless_uniform([tf.shape(self.val_y)[0]], seed=seed))[: self.n_val]
            vy, vp = tf.gather(self.val_y, pick), self(tf.gather(self.val_x, pick), training=False)
            row[2] = tf.reduce_mean(tf.cast(tf.argmax(vp, 1) == vy, tf.float32))
            row[3] = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(vy, vp))
        slot = tf.where(step == self.last, tf.constant(len(self.reported) - 1, tf.int64), step // self.every)
        slot = tf.minimum(slot, len(self.reported) - 1)
        self.rows.assign(
            tf.where(is_report, tf.tensor_scatter_nd_update(self.rows, [[slot]], [tf.stack(row)]), self.rows)
        )
        for name, accuracy, xent in (("train", row[1], row[0]), ("validation", row[2], row[3])):
            if name in self.writers and (name == "train" or self.n_val):
                # What tf.summary.scalar writes, with no name scope of the graph in the tag.
                # (Under MirroredStrategy the first replica writes, the others skip.)
                with self.writers[name].as_default(step=step), tf.summary.record_if(is_report):
                    tf.summary.write("accuracy", accuracy, metadata=SCALAR)
                    tf.summary.write("cross_entropy", xent, metadata=SCALAR)
        return True


class ClassicReport(keras.callbacks.Callback):
    """After each execution of fit: the classic lines of its report steps, into history. Opens the
    head's TensorBoard writers at logdir/train and logdir/validation for the training."""

    def __init__(self, history, logdir):
        super().__init__()
        self.history, self.logdir, self.done = history, logdir, 0

    def on_train_begin(self, logs=None):
        # Before fit's first step, when the head's step is made into a graph: it writes to these.
        self.model.writers = {s: tf.summary.create_file_writer(str(self.logdir / s)) for s in ("train", "validation")}

    def on_train_batch_end(self, batch, logs=None):
        head = self.model
        taken = int(head.optimizer.iterations.numpy())
        rows = head.rows.numpy()
        while self.done < len(head.reported) and head.reported[self.done] < taken:
            loss, accuracy, val_accuracy, val_loss = rows[self.done].tolist()
            self.history.append(
                step_lines(head.reported[self.done], accuracy, loss, val_accuracy, val_loss, head.n_val)
            )
            self.done += 1

    def on_train_end(self, logs=None):
        for w in self.model.writers.values():
            w.close()


def interval_batches(x, y, steps, batch_size, every, rng):
    """A tf.data.Dataset of random batches (features, labels) of x, y, with replacement: one
    element per `every` steps, features [batch_size, every, features] (the last may be shorter)."""
    features, labels = tf.constant(x), tf.constant(y)
    picks = rng.integers(0, len(y), (steps, batch_size))
    full = steps // every * every
    data = tf.data.Dataset.from_tensor_slices(picks[:full].reshape(-1, every, batch_size).transpose(0, 2, 1))
    if full < steps:
        data = data.concatenate(tf.data.Dataset.from_tensors(picks[full:].T))
    return data.map(lambda b: (tf.gather(features, b), tf.gather(labels, b)))


def distorted_batches(images, y, steps, batch_size, every, rng, features_of):
    """The same from images distorted afresh: the backbone runs on every batch (features_of:
    images -> features, through Keras's preprocessing layers and the backbone)."""

    def intervals():
        for first in range(0, steps, every):
            b = rng.integers(0, len(y), (batch_size, min(every, steps - first)))
            yield np.stack([np.asarray(features_of(images[b[:, i]]), np.float32) for i in range(b.shape[1])], 1), y[b]

    n_features = np.asarray(features_of(images[:1])).shape[-1]
    spec = (tf.TensorSpec([batch_size, None, n_features], tf.float32), tf.TensorSpec([batch_size, None], tf.int64))
    return _dataset(intervals, spec, -(-steps // every))


def _dataset(generator, spec, n):
    """A tf.data.Dataset of what generator yields, n elements (so fit knows its length)."""
    return tf.data.Dataset.from_generator(generator, output_signature=spec).apply(
        tf.data.experimental.assert_cardinality(n)
    )
