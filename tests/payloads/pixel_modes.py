import json

import numpy as np
from PIL import Image, ImageCms

from dlkit.images import read_image


def saved(image, fmt, **kw):
    path = f"/tmp/mode-{len(cases)}.{fmt.lower()}"
    image.save(path, fmt, **kw)
    return path


cases = {}
cases["1 PNG"] = saved(Image.new("1", (8, 8), 1), "PNG")
cases["L PNG"] = saved(Image.new("L", (8, 8), 128), "PNG")
cases["LA PNG, transparent"] = saved(Image.new("LA", (8, 8), (0, 0)), "PNG")
cases["P PNG, transparent index"] = saved(Image.new("P", (8, 8), 0), "PNG", transparency=0)
cases["RGBA PNG, opaque"] = saved(Image.new("RGBA", (8, 8), (200, 30, 60, 255)), "PNG")
cases["RGBA PNG, half transparent black"] = saved(Image.new("RGBA", (8, 8), (0, 0, 0, 128)), "PNG")
cases["I;16 PNG (16-bit grey)"] = saved(Image.fromarray(np.full((8, 8), 40000, np.uint16)), "PNG")
cases["I TIFF (32-bit grey)"] = saved(Image.fromarray(np.full((8, 8), 40000, np.int32)), "TIFF")
cases["F TIFF (float grey)"] = saved(Image.fromarray(np.full((8, 8), 0.5, np.float32)), "TIFF")
cases["CMYK JPEG"] = saved(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG", quality=95)
to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB")
cases["LAB TIFF"] = saved(ImageCms.applyTransform(Image.new("RGB", (8, 8), (200, 30, 60)), to_lab), "TIFF")
palette = Image.new("P", (8, 8), 1)
palette.putpalette([0, 0, 0, 0, 128, 0])
cases["P GIF"] = saved(palette, "GIF")
cases["RGB WEBP"] = saved(Image.new("RGB", (8, 8), (200, 30, 60)), "WEBP", lossless=True)
cases["RGB BMP"] = saved(Image.new("RGB", (8, 8), (200, 30, 60)), "BMP")
out = {}
for name, path in cases.items():
    with Image.open(path) as im:
        mode = im.mode
    out[name] = {"mode": mode, "rgb": np.asarray(read_image(path))[4, 4].tolist()}
print(json.dumps(out))
