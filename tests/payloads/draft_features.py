# Large JPEGs (12-megapixel phone photos, from scikit-image's sample pictures) as retrain reads them
# (dlkit.images.load_image: decoded at a reduced scale, Pillow's draft) and fully decoded, through
# the image's default backbone on TensorFlow: the smallest cosine between the two, and the sizes
# the reduced decode produced.
import json

import numpy as np
from PIL import Image
from skimage import data

from dlkit import assets, engine
from dlkit.images import load_image, read_image

backbone = assets.default_backbone()
size = assets.backbone_spec(backbone)["input_size"]
drafted, full, decoded = [], [], []
for name in ("astronaut", "coffee", "chelsea", "rocket"):
    path = f"/tmp/{name}.jpg"
    Image.fromarray(getattr(data, name)()).resize((4032, 3024), Image.BICUBIC).save(path, quality=92)
    drafted.append(load_image(path, size))
    full.append(np.asarray(read_image(path).resize((size, size), Image.BILINEAR), dtype=np.float32))
    decoded.append(read_image(path, draft=(size, size)).size)
predict = engine.predictor(backbone, "tensorflow")
a, b = np.asarray(predict(np.stack(drafted))), np.asarray(predict(np.stack(full)))
cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
print(json.dumps({"min_cosine": float(cosine.min()), "decoded": decoded, "input_size": size}))
