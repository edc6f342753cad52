# What every kernel runs (tests/support/jupyter_load.py): import TensorFlow/Keras, fit a small network,
# print its accuracy.
import keras
import numpy as np

rng = np.random.default_rng(0)
x = rng.normal(size=(4000, 20)).astype("float32")
y = (x[:, :10].sum(1) > x[:, 10:].sum(1)).astype("int32")
model = keras.Sequential(
    [keras.Input((20,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(2, activation="softmax")]
)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=10, batch_size=64, verbose=0)
print("accuracy", round(history.history["accuracy"][-1], 3))
