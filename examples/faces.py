"""Face detection with OpenCV's Haar cascade: boxes printed, and an annotated picture.

    ./faces.sh photo.jpg                     boxes as "x y width height", picture in models/
    ./faces.sh --sample astronaut            a sample photo shipped with scikit-image
    ./faces.sh photo.jpg --output out.png --min_size 40

What it shows: the Viola-Jones detector (2001), the classic before deep learning: a cascade of
simple light/dark rectangle features, trained on faces, slid over the image at many scales. It is
fast and needs no GPU; it also misses turned faces and finds faces in wallpaper, which is why
CNN detectors replaced it.
"""
import argparse
from pathlib import Path

import numpy as np

from dlkit.errors import UserError, main_guard
from dlkit.images import read_image


def photo(path=None, sample=None):
    """An RGB uint8 array from a file (read by content) or a scikit-image sample, and how many of
    the file's pixels one of its pixels spans: a JPEG of 4096 pixels or more is decoded at
    1/2 to 1/8 scale (fast, and it fits in memory), so its boxes are scaled back."""
    if sample:
        from skimage import data
        if not hasattr(data, sample):
            raise UserError(f"scikit-image has no sample photo {sample!r} (try astronaut)")
        image = getattr(data, sample)()
        return (np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]), 1
    image = read_image(path, draft=(2048, 2048))
    return np.asarray(image), image.info["scale"]


def detect(image, min_size=30):
    """[(x, y, w, h)] of the faces found in an RGB image."""
    import cv2
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    faces = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size))
    return [tuple(int(v) for v in f) for f in faces]


def annotate(image, faces, output):
    import cv2
    out = image.copy()
    for x, y, w, h in faces:
        cv2.rectangle(out, (x, y), (x + w, y + h), (255, 40, 40), max(2, image.shape[1] // 200))
    output.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image
    Image.fromarray(out).save(output)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("image", nargs="?", type=Path)
    p.add_argument("--sample", help="a scikit-image sample photo instead of a file, e.g. astronaut")
    p.add_argument("--output", type=Path, help="annotated PNG (default: models/faces_<name>.png)")
    p.add_argument("--min_size", type=int, default=30, help="smallest face, in pixels")
    args = p.parse_args(argv)
    if bool(args.image) == bool(args.sample):
        p.error("give an image file or --sample NAME")
    image, scale = photo(args.image, args.sample)
    faces = detect(image, max(1, round(args.min_size / scale)))
    print(f"{len(faces)} face{'s' if len(faces) != 1 else ''} found")
    for x, y, w, h in faces:
        print(" ".join(str(round(v * scale)) for v in (x, y, w, h)))  # in the file's pixels
    output = args.output or Path("models") / f"faces_{args.sample or args.image.stem}.png"
    annotate(image, faces, output)
    print(f"annotated: {output}")
    return 0


if __name__ == "__main__":
    main_guard("faces", main)
