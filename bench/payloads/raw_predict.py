import json
import sys
import time
from pathlib import Path

import numpy as np

from dlkit import engine
from dlkit.assets import default_backbone, load_backbone
from dlkit.images import load_image

name = sys.argv[1] or default_backbone()
extractor, size = load_backbone(name)
files = sorted(Path("/tmp/ds").rglob("*.*"))[: int(sys.argv[2])]
x = np.stack([load_image(f, size) for f in files])
extractor.predict(x[:64], batch_size=32, verbose=0)  # warm-up
extractor.predict_on_batch(x[:32])
t = time.perf_counter()
extractor.predict(x, batch_size=32, verbose=0)
keras_predict = time.perf_counter() - t
t = time.perf_counter()
for i in range(0, len(x), 32):
    extractor.predict_on_batch(x[i : i + 32])
on_batch = time.perf_counter() - t
# The same through ONNX Runtime, where the backbone is converted (the engine retrain runs).
onnx = None
if engine.choose(name) == "onnx":
    features = engine.onnx_features(engine.onnx_file(name))
    features(x[:32])  # warm-up
    t = time.perf_counter()
    for i in range(0, len(x), 32):
        features(x[i : i + 32])
    onnx = time.perf_counter() - t
# The faster of Keras' two batched calls is TensorFlow's raw figure to beat.
print(
    json.dumps(
        {
            "backbone": name,
            "images": len(x),
            "seconds": min(keras_predict, on_batch),
            "predict_s": keras_predict,
            "predict_on_batch_s": on_batch,
            "onnx_s": onnx,
        }
    )
)
