import json

import keras
import numpy as np

keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(512, 2)).astype("float32")
y = (x[:, 0] * x[:, 1] > 0).astype("int32")  # XOR of signs: needs a hidden layer
model = keras.Sequential(
    [keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2, activation="softmax")]
)
model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
h = model.fit(x, y, epochs=40, batch_size=64, verbose=0)
print(
    json.dumps(
        {
            "backend": keras.backend.backend(),
            "first_loss": h.history["loss"][0],
            "last_loss": h.history["loss"][-1],
            "accuracy": h.history["accuracy"][-1],
        }
    )
)
