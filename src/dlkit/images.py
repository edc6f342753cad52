"""Images: read by their content, decoded in threads, fed to a network in batches of one shape.

- `read_image`: opens JPEG, PNG, HEIC, AVIF and friends by their content (a PNG named .jpg is fine), turned
  upright as the camera's EXIF orientation says (phone photos), every pixel format into the right
  RGB (`to_rgb`); every problem with a file is a `BadImage` (one line), except real I/O errors.
- `load_image`: the square RGB array of 0..255 values a network expects.
- `decoded_batches`, `predict_padded`: many images through a network, decoded in threads a few
  batches ahead of it, every call with the same batch shape.
"""

import os
import threading

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from .errors import UserError

IMAGE_FORMATS = {"JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF", "MPO", "AVIF", "HEIF"}  # AVIF: Android, the web
# EXIF orientation (how the camera was held) -> what makes the picture upright.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
ORIENTATION = 0x0112


class BadImage(UserError):
    """A file that is not a usable image: str() is "path: reason"."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def read_image(path, draft=None):
    """The image at path as a PIL RGB image, read by its content, not its name.

    draft=(w, h): a JPEG may be decoded at a reduced scale (1/2 to 1/8) still at least that big;
    the image's info["scale"] says by how much (1: full size).
    Every problem with the file is a BadImage (one line), except real I/O errors.
    """
    try:
        with _open_unchecked(path) as image:
            if image.format not in IMAGE_FORMATS:
                raise BadImage(path, f"{image.format} images are not supported")
            width, height = image.size
            if draft:
                image.draft("RGB", draft)  # JPEG: much faster, and much less memory
            limit = Image.MAX_IMAGE_PIXELS or float("inf")
            if image.width * image.height > limit:  # a "decompression bomb", or just a huge PNG
                raise BadImage(
                    path,
                    f"{width}x{height} pixels is too large to decode safely "
                    f"(limit {limit // 10**6:.0f} megapixels; make it smaller)",
                )
            upright = UPRIGHT.get(image.getexif().get(ORIENTATION, 1))  # a phone held sideways
            rgb = to_rgb(image, path)
            rgb = rgb if upright is None else rgb.transpose(upright)  # FLIP_LEFT_RIGHT is 0
            rgb.info["scale"] = width / image.width  # file pixels per pixel: 2 to 8 after a draft
            return rgb
    except UnidentifiedImageError:
        raise BadImage(path, "not an image" + (" (an empty file)" if _empty(path) else ""))
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt files
        if isinstance(e, OSError) and e.errno is not None:
            raise  # a real I/O problem (permissions, disk), not a bad image
        raise BadImage(path, f"unreadable image ({e})")


def to_rgb(image, path="image"):
    """The image as 8-bit RGB, whatever its pixel format: transparent pixels over white (not the
    black or random colours hidden under them), 16-bit and 32-bit grey scaled down (not clipped
    to white), floating-point grey in 0..1 scaled up, CIELab through a colour transform."""
    mode = image.mode
    if mode == "RGB":
        return image.convert("RGB")  # decodes it, so that the file can be closed
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    if mode in ("I", "F") or mode.startswith("I;16"):
        grey = np.asarray(image, dtype=np.float64)
        top = grey.max(initial=0)
        if mode == "F" and top <= 1:
            grey = grey * 255  # floating-point images hold 0..1
        elif top > 255:
            grey = grey / (65535 / 255 if top <= 65535 else top / 255)  # 16-bit (or wider) grey
        return Image.fromarray(np.clip(grey.round(), 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "LAB":
        lab_to_rgb = ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
        )
        return ImageCms.applyTransform(image, lab_to_rgb)
    if mode in ("1", "L", "P", "CMYK", "YCbCr", "HSV", "RGBX"):
        return image.convert("RGB")
    raise BadImage(path, f"{mode} pixels are not supported (save it as an ordinary RGB JPEG or PNG)")


_OPENING = threading.Lock()
_heif = []  # [True] once HEIC's opener is registered


def _open_heif(path):
    """HEIC (iPhone photos) through Pillow, by pi-heif's opener, registered only when a file is not
    an image Pillow knows (importing it costs ~50 ms). libheif turns them upright by their own
    rotation (irot)."""
    if _heif:
        raise UnidentifiedImageError(f"cannot identify image file {path!r}")
    import pi_heif

    pi_heif.register_heif_opener()
    _heif.append(True)
    return Image.open(path)


def _open_unchecked(path):
    """Image.open without Pillow's size limit, which read_image applies after JPEG's reduced-scale
    decoding instead: a 20000x20000 photo is read at 2500x2500. Opening reads only the header, so
    the limit is off only for that instant (our decoding threads take turns), then back on."""
    with _OPENING:
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            try:
                return Image.open(path)
            except UnidentifiedImageError:
                return _open_heif(path)
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def _empty(path):
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


def load_image(path, size):
    """The image at path as a (size, size, 3) float32 array of 0..255 RGB values."""
    image = read_image(path, draft=(size, size))
    return np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.float32)


def decoded_batches(files, size, batch_size=32):
    """Yield the files in batches of [(path, array or None, why not)], decoded by load_image in
    threads that run a few batches ahead, so the network never waits for the disk or the JPEG
    decoder, and memory holds a few batches, not a whole folder of decoded images."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()

    def decode(batch):
        out = []
        for f in batch:
            if stop.is_set():
                break
            try:
                out.append((f, load_image(f, size), None))
            except BadImage as e:
                out.append((f, None, e.reason))
        return out

    workers = os.cpu_count() or 2
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        ahead = deque()
        for i in range(0, len(files), batch_size):
            ahead.append(pool.submit(decode, files[i : i + batch_size]))
            if len(ahead) > 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        # Stopped early (Ctrl-C, `docker stop`): the batches not started are dropped, and those
        # being decoded stop at their next image, so the program ends in a fraction of a second.
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


def predict_padded(predict, x, batch_size):
    """predict(x) for x of at most batch_size images, padded with black images to batch_size:
    Keras traces the network again for each new batch shape (~0.7 s), so every call uses one."""
    pad = np.zeros((batch_size - len(x), *x.shape[1:]), x.dtype)
    return np.asarray(predict(np.concatenate([x, pad])))[: len(x)]
