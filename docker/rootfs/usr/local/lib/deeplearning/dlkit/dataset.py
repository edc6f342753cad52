"""A dataset as a folder of class sub-folders: scanning it, its labels, and the fixed split.

- `scan`: {label: [image files]}; hidden files, link loops and broken links are skipped with a
  warning, and a folder that cannot be trained on is one clear error.
- `label_of`: 'Homer_Simpson' -> 'homer simpson', as the classic retrain.py named classes.
- `which_set` / `split`: training, validation or testing, by a hash of each file's path inside the
  dataset, so the split never changes between runs (or when the folder is moved).
"""
import hashlib
import os
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

from .errors import UserError, warn_skipped

MAX_PER_CLASS = 2 ** 27 - 1  # as in the classic retrain.py: split percentages by hash
MIN_IMAGES_WARN = 20
SETS = ("training", "validation", "testing")


def label_of(folder_name):
    """Folder name to label, as the classic retrain.py did: 'Homer_Simpson' -> 'homer simpson'.
    Letters of every language stay ('Città_del_Capo' -> 'città del capo')."""
    return re.sub(r"[\W_]+", " ", unicodedata.normalize("NFC", folder_name).lower()).strip()


def which_set(relative_path, testing_percentage, validation_percentage):
    """'training', 'validation' or 'testing', decided by a hash of the path inside the dataset.

    Text after '_nohash_' is ignored, so variants of one photo land in the same set.
    """
    key = re.sub(r"_nohash_.*$", "", relative_path)
    h = int(hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest(), 16)
    percent = (h % (MAX_PER_CLASS + 1)) * (100.0 / MAX_PER_CLASS)
    if percent < testing_percentage:
        return "testing"
    if percent < testing_percentage + validation_percentage:
        return "validation"
    return "training"


def image_files(folder, seen):
    """The (non-hidden) files under folder, sorted. Linked folders are followed, each folder once:
    a link loop, a link into another class or a broken link is skipped with a warning, never an
    endless walk. seen: (inode, device) of the folders not to enter (the dataset, the classes)."""
    files = []
    for root, dirs, names in os.walk(folder, followlinks=True,
                                     onerror=lambda e: warn_skipped(e.filename, e.strerror)):
        keep = []
        for d in sorted(d for d in dirs if not d.startswith(".")):
            try:
                key = os.stat(os.path.join(root, d))[1:3]
            except OSError as e:
                warn_skipped(os.path.join(root, d), e.strerror)
                continue
            if key in seen:
                warn_skipped(os.path.join(root, d), "a link to a folder that is scanned already (a loop, or another class)")
            else:
                seen.add(key)
                keep.append(d)
        dirs[:] = keep
        for n in sorted(n for n in names if not n.startswith(".")):
            f = Path(root) / n
            if f.is_file():
                files.append(f)
            elif f.is_symlink():
                warn_skipped(f, "a broken link, or a link loop")
    return files


def scan(image_dir):
    """{label: [files]} from a folder of class sub-folders (hidden files and folders skipped)."""
    if not image_dir.exists():
        raise UserError(f"image_dir {image_dir} does not exist")
    if not image_dir.is_dir():
        raise UserError(f"image_dir {image_dir} is not a folder")
    classes = {}
    root = image_dir.resolve()
    subs = []
    for sub in sorted(p for p in image_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if root.is_relative_to(sub.resolve()):
            warn_skipped(sub, "a link back to the dataset folder (a loop)")
        else:
            subs.append(sub)
    seen = {os.stat(d)[1:3] for d in [image_dir, *subs]}  # (inode, device), whatever the path to it
    for sub in subs:
        label = label_of(sub.name)
        if not label:
            raise UserError(f"folder {sub} gives an empty label: name it with letters or digits")
        if label in classes:
            raise UserError(f"folders {classes[label][0]} and {sub} both give the label {label!r}")
        classes[label] = [sub] + image_files(sub, seen)
    if len(classes) < 2:
        raise UserError(f"{image_dir} has {len(classes)} class folder(s); retraining needs at least 2 "
                        f"(one sub-folder of images per category)")
    empty = [f"{label!r} ({files[0]})" for label, files in classes.items() if len(files) == 1]
    if empty:
        raise UserError(f"class {', '.join(empty)} has no images")
    for label, files in classes.items():
        if len(files) - 1 < MIN_IMAGES_WARN:
            n = len(files) - 1
            print(f"warning: class {label!r} has only {n} image{'s' * (n > 1)}; "
                  f"{MIN_IMAGES_WARN} or more work better", file=sys.stderr)
    return {label: files[1:] for label, files in classes.items()}


def split(files, y, labels, image_dir, testing_percentage, validation_percentage):
    """{set name: indices into files} for files (inside image_dir) of labels y, each by which_set.

    A class with no readable image, or none in the training set, is an error; a class missing from
    the validation or testing set is a warning. Prints the classic 'split:' line.
    """
    lost = [label for i, label in enumerate(labels) if not (y == i).any()]
    if lost:
        raise UserError(f"class {', '.join(map(repr, lost))} has no readable images")
    sets = np.array([which_set(f.relative_to(image_dir).as_posix(), testing_percentage, validation_percentage)
                     for f in files])
    out = {s: np.flatnonzero(sets == s) for s in SETS}
    if len(out["training"]) == 0:
        raise UserError("no image fell in the training set: lower --testing_percentage/--validation_percentage")
    untrained = [label for i, label in enumerate(labels) if not (y[out["training"]] == i).any()]
    if untrained:
        raise UserError(f"class {', '.join(map(repr, untrained))} has no training image (all fell in the "
                        f"validation or testing set): add images to it")
    for s in ("validation", "testing"):
        missing = [label for i, label in enumerate(labels) if not (y[out[s]] == i).any()]
        if missing and len(out[s]):
            print(f"warning: no {s} images for class {', '.join(map(repr, missing))}", file=sys.stderr)
    print(f"split: {len(out['training'])} training, {len(out['validation'])} validation, "
          f"{len(out['testing'])} testing")
    return out
