"""TensorFlow and Keras do real work in the container."""

import json

from support.containers import VARIANT, payload


def test_a_small_keras_model_learns(host):
    out = json.loads(host.check_output("python -c %s", payload("keras_train.py")).splitlines()[-1])
    assert out["backend"] == "tensorflow"
    assert out["last_loss"] < out["first_loss"] / 3
    assert out["accuracy"] > 0.9


def test_tensorflow_build_matches_the_variant_and_sees_no_gpu_unasked(host):
    # The test container is started without --gpus: no GPU, in either image.
    out = host.check_output(
        "python -c %s",
        "import tensorflow as tf; print(tf.test.is_built_with_cuda(), len(tf.config.list_physical_devices('GPU')))",
    )
    assert out.splitlines()[-1] == f"{VARIANT == 'cuda'} 0"
