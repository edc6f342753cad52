"""TensorFlow and Keras do real work in the container."""
import json

from support.containers import VARIANT

TRAIN = """
import json, numpy as np, keras
keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(512, 2)).astype("float32")
y = (x[:, 0] * x[:, 1] > 0).astype("int32")          # XOR of signs: needs a hidden layer
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
h = model.fit(x, y, epochs=40, batch_size=64, verbose=0)
print(json.dumps({"backend": keras.backend.backend(), "first_loss": h.history["loss"][0],
                  "last_loss": h.history["loss"][-1], "accuracy": h.history["accuracy"][-1]}))
"""


def test_a_small_keras_model_learns(host):
    out = json.loads(host.check_output("python -c %s", TRAIN).splitlines()[-1])
    assert out["backend"] == "tensorflow"
    assert out["last_loss"] < out["first_loss"] / 3
    assert out["accuracy"] > 0.9


def test_tensorflow_build_matches_the_variant_and_sees_no_gpu_unasked(host):
    # The test container is started without --gpus: no GPU, in either image.
    out = host.check_output(
        "python -c %s",
        "import tensorflow as tf; print(tf.test.is_built_with_cuda(), len(tf.config.list_physical_devices('GPU')))")
    assert out.splitlines()[-1] == f"{VARIANT == 'cuda'} 0"
