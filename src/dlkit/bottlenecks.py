"""Bottlenecks: a backbone's feature vector of every image, computed once and cached by content.

- `BottleneckCache`: one .npy file per (backbone weights, engine, image content), written atomically;
  an unreadable entry counts as missing.
- `look_up`: hash the images and read what is cached (no TensorFlow: runs in a helper process).
- `compute`: the features of a list of images, running the backbone only on those not cached.
"""

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .assets import asset_entry
from .images import decoded_batches, predict_padded


def content_hash(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class BottleneckCache:
    """One .npy file per (backbone weights, engine, image content); unreadable entries count as missing."""

    def __init__(self, folder, backbone, engine="tensorflow"):
        # The weights' digest is part of the key: other weights installed under the same name
        # (a user's own file, a newer release) never reuse these features. So is the engine
        # (dlkit.engine) unless it is TensorFlow: features of two engines never mix.
        digest = (asset_entry(backbone) or {}).get("digest", "")
        name = f"{backbone}-{digest[:12]}" if digest else backbone
        self.folder = Path(folder) / (name if engine == "tensorflow" else f"{name}-{engine}")

    def path(self, digest):
        return self.folder / digest[:2] / f"{digest}.npy"

    def get(self, digest, dim=None):
        try:
            v = np.load(self.path(digest), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        ok = v.ndim == 1 and (dim is None or v.shape[0] == dim) and np.isfinite(v).all()
        return v if ok else None

    def put(self, digest, vector):
        """Write an entry atomically, repairing what stands in its way: a folder or a file where
        the entry or its shard folder should be (damage, like an unreadable entry)."""
        target = self.path(digest)
        for path, wanted_dir in ((target.parent, True), (target, False)):
            if path.is_symlink() or (path.exists() and path.is_dir() != wanted_dir):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, vector.astype(np.float32))
            os.replace(tmp, target)  # atomic: an interrupted run never leaves half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class LookedUp(NamedTuple):
    """What look_up found: each readable file's content digest, the features already cached,
    the files that could not be read [(file, reason)], and the seconds it took."""

    digests: dict
    found: dict
    skipped: list
    seconds: float


def look_up(files, cache, dim):
    """Hash each file's content and look its features up in the cache (no network, no TensorFlow)."""
    t = time.monotonic()
    digests, found, skipped = {}, {}, []
    for f in files:
        try:
            digests[f] = content_hash(f)
        except OSError as e:
            skipped.append((f, e.strerror))
            continue
        v = cache.get(digests[f], dim)
        if v is not None:
            found[f] = v
    return LookedUp(digests, found, skipped, time.monotonic() - t)


def compute_by_engine(files, backbone, spec, cache, batch_size):
    """(looked_up, (features, kept, skipped, counts, seconds)): compute's result and the seconds it
    took with the look-up, with ONNX Runtime on the converted backbone. What a helper process runs
    while the program imports TensorFlow."""
    from .engine import predictor

    t = time.monotonic()
    looked_up = look_up(files, cache, spec["features"])
    computed = compute(
        files, predictor(backbone, "onnx"), spec["input_size"], spec["features"], cache, batch_size, looked_up
    )
    return looked_up, (*computed, time.monotonic() - t)


def compute(files, predict, size, dim, cache, batch_size, looked_up=None):
    """(features, kept files, skipped [(file, reason)], counts) for a list of image files.

    predict(images) runs the backbone (size x size images in, dim features out); it is called
    only for images whose features are not in the cache yet. looked_up: what look_up() returned
    for these files, if it was called already.
    """
    from tqdm import tqdm

    looked_up = looked_up or look_up(files, cache, dim)
    vectors, skipped = dict(looked_up.found), list(looked_up.skipped)
    todo = [f for f in looked_up.digests if f not in looked_up.found]
    computed = 0
    batch_size = max(1, min(batch_size, len(todo)))
    with tqdm(total=len(todo), desc="bottlenecks", unit="img", disable=None if todo else True) as bar:
        for decoded in decoded_batches(todo, size, batch_size):
            good = [(f, x) for f, x, err in decoded if err is None]
            skipped += [(f, err) for f, x, err in decoded if err is not None]
            if good:
                out = predict_padded(predict, np.stack([x for _, x in good]), batch_size)
                for (f, _), v in zip(good, np.asarray(out)):
                    cache.put(looked_up.digests[f], v)
                    vectors[f] = v
                computed += len(good)
            bar.update(len(decoded))
    kept = [f for f in files if f in vectors]
    features = np.stack([vectors[f] for f in kept]) if kept else np.zeros((0, dim), np.float32)
    return features, kept, skipped, {"computed": computed, "cached": len(kept) - computed}
