# The held-out accuracy of a saved model (0..255 images in, one probability per class out):
# folders of DATA_DIR are the classes, in sorted order as both retrain and keras.io number them.
#     python heldout_accuracy.py MODEL_FILE DATA_DIR  ->  {"right": N, "images": M}
import json
import sys

import keras
import numpy as np

model = keras.models.load_model(sys.argv[1])
size = model.input_shape[1]
ds = keras.utils.image_dataset_from_directory(sys.argv[2], image_size=(size, size), shuffle=False, batch_size=32)
labels = np.concatenate([y for _, y in ds])
pred = model.predict(ds.map(lambda images, _: images), verbose=0).argmax(1)
print(json.dumps({"right": int((pred == labels).sum()), "images": len(labels)}))
