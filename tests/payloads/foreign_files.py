import os
import shutil
from pathlib import Path

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras

L = keras.layers
models = {
    "head-only": [keras.Input((1280,)), L.Dense(5, activation="softmax")],
    "grayscale": [keras.Input((64, 64, 1)), L.Flatten(), L.Dense(5, activation="softmax")],
    "small-input": [
        keras.Input((96, 96, 3)),
        L.Conv2D(4, 3),
        L.GlobalAveragePooling2D(),
        L.Dense(5, activation="softmax"),
    ],
}
for name, layers in models.items():
    d = Path("/tmp/foreign") / name
    d.mkdir(parents=True)
    keras.Sequential(layers).save(d / "model.keras")
    shutil.copy("/tmp/models/retrained/labels.txt", d)
d = Path("/tmp/foreign/not-a-model")
d.mkdir()
(d / "model.keras").write_text("hello")
shutil.copy("/tmp/models/retrained/labels.txt", d)
shutil.copytree("/tmp/models/retrained", "/tmp/foreign/other-labels")
Path("/tmp/foreign/other-labels/labels.txt").write_text("cats\ndogs\n")
