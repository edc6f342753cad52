import pathlib
import re
import sys
import zipfile

import keras
import numpy as np

config = zipfile.ZipFile(sys.argv[1]).read("config.json").decode()
modules = set(re.findall(r'"module": "([^"]+)"', config))
assert modules and all(m.startswith("keras") for m in modules), modules  # Keras's classes only
model = keras.models.load_model(sys.argv[1])
labels = ["checks", "dots", "rings", "stripes"]
files = sorted(pathlib.Path(sys.argv[2]).glob("*/*"))
size = model.input_shape[1]
x = np.stack([keras.utils.img_to_array(keras.utils.load_img(f, target_size=(size, size))) for f in files])
pred = model.predict(x, verbose=0).argmax(1)
print(sum(labels[p] == f.parent.name for p, f in zip(pred, files)), len(files))
