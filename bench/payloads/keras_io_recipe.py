# keras.io's transfer-learning recipe (guides/transfer_learning), on the image's backbone, as a user
# would write it: image_dataset_from_directory -> Rescaling -> frozen base -> GlobalAveragePooling2D
# -> Dropout -> Dense, then fit for 5 epochs ("fit"); or its feature-extraction variant ("extract"):
# the frozen base's predict once over the data, then fit a Dropout + Dense head on the features.
# The base is dlkit.assets.load_backbone (Rescaling as the network expects, the frozen base, global
# average pooling). Saves the model (0..255 images in, probabilities out) for the held-out check.
#     python keras_io_recipe.py fit|extract BACKBONE DATA_DIR MODEL_FILE
import sys

import keras
import numpy as np

from dlkit.assets import load_backbone

variant, backbone, data_dir, model_file = sys.argv[1:5]
base, size = load_backbone(backbone)
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    data_dir, validation_split=0.2, subset="both", seed=1337, image_size=(size, size), batch_size=32
)
classes = len(train_ds.class_names)
head = keras.Sequential([keras.layers.Dropout(0.2), keras.layers.Dense(classes, activation="softmax")])
if variant == "fit":
    inputs = keras.Input((size, size, 3))
    model = keras.Model(inputs, head(base(inputs, training=False)))
    model.compile(keras.optimizers.Adam(), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_ds, epochs=5, validation_data=val_ds, verbose=0)
else:

    def features(ds):  # one pass: the dataset reshuffles on every pass
        pairs = [(base.predict_on_batch(images), labels) for images, labels in ds]
        return np.concatenate([x for x, _ in pairs]), np.concatenate([y for _, y in pairs])

    train_x, train_y = features(train_ds)
    head.compile(keras.optimizers.Adam(), "sparse_categorical_crossentropy", metrics=["accuracy"])
    head.fit(train_x, train_y, epochs=5, batch_size=32, validation_data=features(val_ds), verbose=0)
    model = keras.Model(base.input, head(base.output))
model.save(model_file)
