"""Converters of the stand-in profile: assets republished in another shape, made standard."""

import json
import shutil

from . import AssetError
from .manifest import provenance


def glove_npy_parquet(src, out_dir, asset):
    """GloVe as a .npy matrix plus a Parquet word index -> a gensim KeyedVectors file."""
    import numpy as np
    import pyarrow.parquet as pq
    from gensim.models import KeyedVectors

    words = pq.read_table(next(src.glob("*.parquet"))).column(0).to_pylist()
    vectors = np.load(next(src.glob("*.npy")))
    if len(words) != len(vectors):
        raise AssetError(f"{src}: {len(words)} words but {len(vectors)} vectors")
    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(words, vectors)
    kv.lifecycle_events = None  # gensim's documented switch: no save time or machine in the file
    out_dir.mkdir()
    kv.save(str(out_dir / "vectors.kv"))
    return out_dir


SPACY_INIT = '''"""{summary}"""
from pathlib import Path

from spacy.util import get_model_meta, load_model_from_init_py

__version__ = get_model_meta(Path(__file__).parent)["version"]


def load(**overrides):
    return load_model_from_init_py(__file__, **overrides)
'''


def spacy_rename(src, out_dir, asset):
    """A spaCy pipeline package (an unpacked wheel) re-issued under the name spaCy's docs use.

    spacy.load(NAME) imports the installed package NAME: a re-upload named otherwise (the stand-in)
    answers only under that other name. The pipeline's files are kept byte for byte; the package
    is given the standard name, and its metadata says what it is and where it came from.
    """
    name = asset["package"]
    meta_src = next(src.glob("*/meta.json"))
    old_pkg = meta_src.parent.name
    meta = json.loads(meta_src.read_text())
    lang, short = name.split("_", 1)
    data_dir = f"{name}-{meta['version']}"
    summary = (
        f"{name} {meta['version']}, issued by this image from {provenance(asset)}, "
        f"sha256 {asset['sha256']}: {asset['attribution']}"
    )
    meta.update(lang=lang, name=short, description=summary + "\n\n" + meta.get("description", ""))
    pkg = out_dir / name
    shutil.copytree(meta_src.parent / f"{old_pkg}-{meta['version']}", pkg / data_dir)
    for m in (pkg / "meta.json", pkg / data_dir / "meta.json"):
        m.write_text(json.dumps(meta, indent=2) + "\n")
    (pkg / "__init__.py").write_text(SPACY_INIT.format(summary=summary))
    info = out_dir / f"{name}-{meta['version']}.dist-info"
    info.mkdir()
    requires = next(
        (
            line
            for line in (next(src.glob("*.dist-info")) / "METADATA").read_text().splitlines()
            if line.startswith("Requires-Dist:")
        ),
        "",
    )
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {meta['version']}\n"
        f"Summary: {summary}\nLicense: {meta.get('license', '')}\n{requires}\n"
    )
    (info / "entry_points.txt").write_text(f"[spacy_models]\n{name} = {name}\n")
    (info / "INSTALLER").write_text("dl-assets\n")
    return out_dir


CONVERTERS = {"glove-npy-parquet": glove_npy_parquet, "spacy-rename": spacy_rename}
