"""The manifest (what assets exist, where from, their hashes), the hash checks, and an asset's provenance."""

import hashlib
import tomllib
from pathlib import Path

from . import HASHES, MANIFEST, AssetError

# ---- the manifest -------------------------------------------------------------------------

# What dlkit.assets needs to know of a backbone: the Keras architecture (or "submodel" of a
# saved model), its input size, the length of its feature vector, its preprocessing.
BACKBONE_KEYS = {"architecture", "input_size", "features", "preprocess"}


def load_manifest(path=MANIFEST):
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise AssetError(f"cannot read the manifest {path}: {e.strerror}")
    except tomllib.TOMLDecodeError as e:
        raise AssetError(f"manifest {path} is not valid TOML: {e}")
    profiles = data.get("profiles", {})
    assets = data.get("assets", [])
    for a in assets:
        sources = [k for k in ("url", "pypi", "generate") if k in a]
        if len(sources) != 1:
            raise AssetError(f"manifest: asset {a.get('name')!r} needs exactly one of url, pypi, generate")
        if sources[0] != "generate" and not any(h in a for h in HASHES):
            raise AssetError(f"manifest: asset {a['name']!r} has no sha256 or md5")
        if sources[0] != "generate" and "filename" not in a:
            raise AssetError(f"manifest: asset {a['name']!r} has no filename")
        missing = BACKBONE_KEYS - set(a.get("backbone", {})) if a.get("provides") == "backbone" else ()
        if missing:
            raise AssetError(f"manifest: backbone {a['name']!r} needs backbone = {{ {', '.join(sorted(missing))} }}")
    return profiles, assets


def select(assets, profile, only):
    names = {a["name"] for a in assets}
    unknown = sorted(set(only) - names)
    if unknown:
        raise AssetError(f"no asset named {', '.join(unknown)} in the manifest (known: {', '.join(sorted(names))})")
    if only:
        return [a for a in assets if a["name"] in only]
    return [a for a in assets if profile in a["profiles"]]


# ---- hashing ------------------------------------------------------------------------------


def file_hash(path, algorithm="sha256"):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(path):
    """sha256 of a file, or of a folder's sorted (relative path, file sha256) pairs."""
    path = Path(path)
    if path.is_file():
        return file_hash(path)
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(f"{p.relative_to(path).as_posix()}\0{file_hash(p)}\n".encode())
    return h.hexdigest()


def check(asset, path):
    """Raise AssetError unless the file at path has the asset's size and hash."""
    size = path.stat().st_size
    if "size" in asset and size != asset["size"]:
        raise AssetError(
            f"{asset['name']}: {asset['filename']} is {size} bytes, the manifest says "
            f"{asset['size']}: the download is incomplete or not the published file"
        )
    for algorithm in HASHES:
        if algorithm in asset:
            got = file_hash(path, algorithm)
            if got != asset[algorithm]:
                raise AssetError(
                    f"{asset['name']}: {algorithm} mismatch for {asset['filename']} "
                    f"(expected {asset[algorithm]}, got {got}): corrupt or tampered with"
                )


def provenance(asset):
    """Where an asset came from, in a few words: the URL, the PyPI release, or the generator."""
    if "generate" in asset:
        return "generated at build time: " + " ".join(asset["generate"][1:]).replace("{out}", "DIR")
    if "pypi" in asset:
        return f"PyPI {asset['pypi']} ({asset['filename']})"
    return asset["url"][0]
