import json

import numpy as np
from PIL import Image

from dlkit.images import read_image

stored = np.zeros((100, 200, 3), np.uint8)
stored[:, :100] = (255, 0, 0)  # as the sensor stored it: red left, blue right
stored[:, 100:] = (0, 0, 255)
exif = Image.Exif()
exif[0x0112] = 6  # "rotate 90 degrees clockwise to view": a phone held upright
Image.fromarray(stored).save("/tmp/phone.jpg", exif=exif, quality=95)
upright = np.asarray(read_image("/tmp/phone.jpg"))
print(json.dumps({"shape": upright.shape, "top": upright[10, 50].tolist(), "bottom": upright[190, 50].tolist()}))
