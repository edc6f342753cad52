"""A small generated image dataset to practise transfer learning on: folders of textures.

    python -m dlkit.textures OUT_DIR [--per_class 60] [--seed 0] [--classes stripes dots]
                                    [--size 160 256] [--jpeg]

Writes OUT_DIR/<class>/<n>.jpg|.png: one folder per class, the layout ./retrain.sh expects.
Each class is a kind of texture (stripes, checks, dots, rings) drawn with random colours, angles,
scales and noise, so a network has to recognise the pattern, not a colour. Sides are drawn
between the two --size values. Every third image is a PNG, the rest JPEG, as in real folders
(--jpeg: all JPEG, as in flower_photos). The same seed gives the same images.
It is the stand-in profile's embedded dataset (made while the image is built) and the tests' data.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("stripes", "checks", "dots", "rings")


def texture(kind, size, rng):
    """One size x size RGB image (uint8) of the given kind of texture."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = x * np.cos(angle) + y * np.sin(angle)
    v = -x * np.sin(angle) + y * np.cos(angle)
    period = rng.uniform(10, 28)
    if kind == "stripes":
        mask = np.sin(2 * np.pi * u / period) > 0
    elif kind == "checks":
        mask = (np.floor(u / period) + np.floor(v / period)) % 2 == 0
    elif kind == "dots":
        mask = np.zeros((size, size), bool)
        for _ in range(rng.integers(12, 40)):
            cx, cy, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(4, 14)
            mask |= (x - cx) ** 2 + (y - cy) ** 2 < r * r
    elif kind == "rings":
        cx, cy = rng.uniform(0, size, 2)
        mask = np.sin(2 * np.pi * np.hypot(x - cx, y - cy) / period) > 0
    else:
        raise ValueError(f"unknown texture {kind!r}")
    fg, bg = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    while np.abs(fg - bg).sum() < 150:  # keep the pattern visible
        fg, bg = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    image = np.where(mask[..., None], fg, bg) + rng.normal(0, 12, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def make_dataset(out, per_class=60, seed=0, classes=CLASSES, size=(160, 256), jpeg_only=False):
    """Write the dataset; return the number of images written."""
    rng = np.random.default_rng(seed)
    count = 0
    for kind in classes:
        folder = Path(out) / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.fromarray(texture(kind, int(rng.integers(*size)), rng))
            if i % 3 == 2 and not jpeg_only:
                image.save(folder / f"{kind}_{i:04d}.png")
            else:
                image.save(folder / f"{kind}_{i:04d}.jpg", quality=90)
            count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--per_class", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classes", nargs="+", default=list(CLASSES), choices=CLASSES)
    parser.add_argument(
        "--size",
        nargs=2,
        type=int,
        default=[160, 256],
        metavar=("MIN", "MAX"),
        help="image sides in pixels, drawn between MIN and MAX",
    )
    parser.add_argument("--jpeg", action="store_true", help="every image a JPEG (default: every third a PNG)")
    args = parser.parse_args()
    if args.per_class < 1:
        parser.error("--per_class must be at least 1")
    if not 16 <= args.size[0] < args.size[1] <= 4096:
        parser.error("--size needs MIN < MAX, between 16 and 4096")
    try:
        n = make_dataset(args.out_dir, args.per_class, args.seed, args.classes, args.size, args.jpeg)
    except OSError as e:
        sys.exit(f"textures: error: cannot write to {args.out_dir}: {e.strerror}")
    print(f"textures: {n} images in {len(args.classes)} classes under {args.out_dir}")


if __name__ == "__main__":
    main()
