"""Converters of the stand-in profile: assets republished in another shape, made standard."""

import base64
import hashlib
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

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
    """A spaCy pipeline package (a wheel) re-issued under the name spaCy's docs use, as a wheel.

    spacy.load(NAME) imports the installed package NAME: a re-upload named otherwise (the stand-in)
    answers only under that other name. The pipeline's files are kept byte for byte; the package
    is given the standard name, and its metadata says what it is and where it came from. The image
    pip-installs the wheel, as it does the upstream profile's.
    """
    name = asset["package"]
    with tempfile.TemporaryDirectory() as tmp:
        unpacked, tree = Path(tmp) / "unpacked", Path(tmp) / "tree"
        with zipfile.ZipFile(src) as z:
            if any(".." in Path(n).parts or n.startswith("/") for n in z.namelist()):
                raise AssetError(f"{asset['filename']}: a member would be written outside the folder")
            z.extractall(unpacked)
        meta_src = next(unpacked.glob("*/meta.json"))
        old_pkg = meta_src.parent.name
        meta = json.loads(meta_src.read_text())
        lang, short = name.split("_", 1)
        data_dir = f"{name}-{meta['version']}"
        summary = (
            f"{name} {meta['version']}, issued by this image from {provenance(asset)}, "
            f"sha256 {asset['sha256']}: {asset['attribution']}"
        )
        meta.update(lang=lang, name=short, description=summary + "\n\n" + meta.get("description", ""))
        pkg = tree / name
        shutil.copytree(meta_src.parent / f"{old_pkg}-{meta['version']}", pkg / data_dir)
        for m in (pkg / "meta.json", pkg / data_dir / "meta.json"):
            m.write_text(json.dumps(meta, indent=2) + "\n")
        (pkg / "__init__.py").write_text(SPACY_INIT.format(summary=summary))
        info = tree / f"{name}-{meta['version']}.dist-info"
        info.mkdir()
        requires = [
            line
            for line in (next(unpacked.glob("*.dist-info")) / "METADATA").read_text().splitlines()
            if line.startswith("Requires-Dist:")
        ]
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {meta['version']}\n"
            f"Summary: {summary}\nLicense: {meta.get('license', '')}\n" + "".join(r + "\n" for r in requires[:1])
        )
        (info / "entry_points.txt").write_text(f"[spacy_models]\n{name} = {name}\n")
        (info / "WHEEL").write_text(
            "Wheel-Version: 1.0\nGenerator: dl-assets\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        out_dir.mkdir()
        return pack_wheel(tree, out_dir / f"{name}-{meta['version']}-py3-none-any.whl", info / "RECORD")


def pack_wheel(tree, wheel, record):
    """tree as a wheel: sorted members with no time (the same bytes on every build), and a RECORD."""

    def add(z, arc, data):
        member = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
        member.external_attr = 0o644 << 16
        z.writestr(member, data, zipfile.ZIP_DEFLATED)

    rows = []
    with zipfile.ZipFile(wheel, "w") as z:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            arc, data = path.relative_to(tree).as_posix(), path.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{arc},sha256={digest},{len(data)}\n")
            add(z, arc, data)
        arc = record.relative_to(tree).as_posix()
        add(z, arc, "".join(rows) + f"{arc},,\n")
    return wheel


CONVERTERS = {"glove-npy-parquet": glove_npy_parquet, "spacy-rename": spacy_rename}
