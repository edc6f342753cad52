"""A dataset as a folder of class sub-folders: scanning it, its labels, and the fixed split.

- `scan`: {label: [image files]}; archive and system junk (__MACOSX/, ._*, .DS_Store, Thumbs.db,
  desktop.ini, hidden files) is skipped and counted in one line, link loops and broken links are
  skipped with a warning, files beside the class folders and strongly imbalanced classes are
  warned about, and a folder that cannot be trained on is one clear error.
- `files_to_label`: the image files named on a command line, folders walked, junk left out.
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

MAX_PER_CLASS = 2**27 - 1  # as in the classic retrain.py: split percentages by hash
MIN_IMAGES_WARN = 20
IMBALANCE_WARN = 4  # the largest class has this many times the images of the smallest, or more
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
# What archivers, file managers and operating systems leave beside the pictures (lower case),
# besides hidden files (a leading dot: .DS_Store, ._photo.jpg resource forks, .git): never data.
JUNK = {"__macosx", "thumbs.db", "ehthumbs.db", "desktop.ini", "$recycle.bin", "system volume information", "icon\r"}


def is_junk(name):
    """True for the name of an archive's or an operating system's own file or folder."""
    return name.startswith(".") or name.lower() in JUNK


def note_junk(junk):
    """The one line that says how much junk was left out (nothing when there was none)."""
    if junk:
        examples = ", ".join(sorted({Path(j).name for j in junk})[:4])
        print(
            f"note: skipped {len(junk)} archive or system {'entries' if len(junk) > 1 else 'entry'} "
            f"({examples}): not images",
            file=sys.stderr,
        )


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


def image_files(folder, seen, junk):
    """The files under folder, sorted, but junk (added to the list junk). Linked folders are
    followed, each folder once: a link loop, a link into another class or a broken link is skipped
    with a warning, never an endless walk. seen: (inode, device) of the folders not to enter (the
    dataset, the classes)."""
    files = []
    for root, dirs, names in os.walk(folder, followlinks=True, onerror=lambda e: warn_skipped(e.filename, e.strerror)):
        keep = []
        junk += [os.path.join(root, n) for n in sorted(dirs + names) if is_junk(n)]
        for d in sorted(d for d in dirs if not is_junk(d)):
            try:
                key = os.stat(os.path.join(root, d))[1:3]
            except OSError as e:
                warn_skipped(os.path.join(root, d), e.strerror)
                continue
            if key in seen:
                warn_skipped(
                    os.path.join(root, d), "a link to a folder that is scanned already (a loop, or another class)"
                )
            else:
                seen.add(key)
                keep.append(d)
        dirs[:] = keep
        for n in sorted(n for n in names if not is_junk(n)):
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
    classes, junk = {}, []
    root = image_dir.resolve()
    subs = []
    entries = sorted(image_dir.iterdir())
    junk += [p for p in entries if is_junk(p.name)]
    loose = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and not is_junk(p.name) and not p.is_dir()]
    for sub in sorted(p for p in entries if p.is_dir() and not is_junk(p.name)):
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
        classes[label] = [sub] + image_files(sub, seen, junk)
    note_junk(junk)
    if loose:
        print(
            f"warning: {len(loose)} image{'s are' if len(loose) > 1 else ' is'} in {image_dir} itself, in no "
            f"class folder, and left out (e.g. {loose[0].name}): put each image in its class's folder",
            file=sys.stderr,
        )
    if len(classes) < 2:
        raise UserError(
            f"{image_dir} has {len(classes)} class folder(s); retraining needs at least 2 "
            f"(one sub-folder of images per category)"
        )
    empty = [f"{label!r} ({files[0]})" for label, files in classes.items() if len(files) == 1]
    if empty:
        raise UserError(f"class {', '.join(empty)} has no images")
    classes = {label: files[1:] for label, files in classes.items()}
    for label, files in classes.items():
        if len(files) < MIN_IMAGES_WARN:
            print(
                f"warning: class {label!r} has only {len(files)} image{'s' * (len(files) > 1)}; "
                f"{MIN_IMAGES_WARN} or more work better",
                file=sys.stderr,
            )
    big, small = max(classes, key=lambda c: len(classes[c])), min(classes, key=lambda c: len(classes[c]))
    if len(classes[big]) >= IMBALANCE_WARN * len(classes[small]):
        print(
            f"warning: the classes are imbalanced: {big!r} has {len(classes[big])} images, {small!r} "
            f"{len(classes[small])}; the model will favour {big!r}: read the per-class test accuracy, "
            f"and add images to {small!r}",
            file=sys.stderr,
        )
    return classes


def split(files, y, labels, image_dir, testing_percentage, validation_percentage):
    """{set name: indices into files} for files (inside image_dir) of labels y, each by which_set.

    A class with no readable image, or none in the training set, is an error; a class missing from
    the validation or testing set is a warning. Prints the classic 'split:' line.
    """
    lost = [label for i, label in enumerate(labels) if not (y == i).any()]
    if lost:
        raise UserError(f"class {', '.join(map(repr, lost))} has no readable images")
    sets = np.array(
        [which_set(f.relative_to(image_dir).as_posix(), testing_percentage, validation_percentage) for f in files]
    )
    out = {s: np.flatnonzero(sets == s) for s in SETS}
    if len(out["training"]) == 0:
        raise UserError("no image fell in the training set: lower --testing_percentage/--validation_percentage")
    untrained = [label for i, label in enumerate(labels) if not (y[out["training"]] == i).any()]
    if untrained:
        raise UserError(
            f"class {', '.join(map(repr, untrained))} has no training image (all fell in the "
            f"validation or testing set): add images to it"
        )
    for s in ("validation", "testing"):
        missing = [label for i, label in enumerate(labels) if not (y[out[s]] == i).any()]
        if missing and len(out[s]):
            print(f"warning: no {s} images for class {', '.join(map(repr, missing))}", file=sys.stderr)
    print(f"split: {len(out['training'])} training, {len(out['validation'])} validation, {len(out['testing'])} testing")
    return out


def files_to_label(arguments):
    """(files, problems [(argument, why)]) from command-line arguments: files as given, folders
    walked (sorted); junk (see is_junk) is left out with one note line, never an error."""
    files, problems, junk = [], [], []
    for arg in map(os.fspath, arguments):
        path = Path(arg)
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", arg):
            problems.append((arg, "a web address: download the image first, then give its file"))
        elif is_junk(path.name) and path.exists():
            junk.append(arg)
        elif path.is_dir():
            found = []
            for root, dirs, names in os.walk(path):  # linked folders are not entered: no loops
                junk += [os.path.join(root, n) for n in dirs + names if is_junk(n)]
                dirs[:] = sorted(d for d in dirs if not is_junk(d))
                found += [Path(root) / n for n in names if not is_junk(n)]
            if not found:
                problems.append((arg, "an empty folder"))
            files += sorted(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append((arg, "no such file or folder"))
    note_junk(junk)
    return files, problems
