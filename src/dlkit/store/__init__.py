"""dl-assets: list, fetch, verify and find the image's assets (model weights, datasets).

    dl-assets list   [--profile P]               what the manifest has, and what is installed
    dl-assets fetch  [--profile P] [--only NAME]  download, check size and hash, unpack, record
                     [--mirror DIR|URL] [--mirror-only]
    dl-assets engines                             convert the backbones for ONNX Runtime (build time)
    dl-assets verify                              re-hash what is installed against the index
    dl-assets path   NAME|backbone|dataset        where an installed asset is (for scripts)
    dl-assets link   [--home DIR]                 put the installed assets where the standard
                                                  loaders look: ~/.keras/models, ~/gensim-data

The manifest (docker/assets/manifest.toml in the repository) lists every asset with its sources,
size, hash, license and attribution. A hash mismatch is an error, never a warning: the file is
deleted and nothing is installed. A mirror (--mirror or DL_ASSETS_MIRROR: a folder, or a base URL
serving the same file names) is tried before the publishers, for air-gapped sites.
Standard calls: an asset with `keras = "models/FILE"` answers Keras's get_file (weights="imagenet")
from ~/.keras/models/FILE; one with `gensim = "NAME"` answers gensim.downloader.load("NAME"); an
asset that is a wheel (spaCy's pipeline) is a Python package: the image pip-installs it into its
venv, as `spacy download` would (spacy.load("en_core_web_sm")).
Environment: DL_ASSETS_MANIFEST, DL_ASSETS_DIR (default /opt/assets), DL_ASSETS_CACHE (downloads),
DL_ASSETS_MIRROR, DL_ASSETS_CA (a CA bundle for HTTPS behind an intercepting proxy).
"""

import os
from pathlib import Path

MANIFEST = Path(os.environ.get("DL_ASSETS_MANIFEST", "/usr/local/share/deeplearning/assets.toml"))
SYSTEM_DIR = Path(os.environ.get("DL_ASSETS_DIR", "/opt/assets"))
USER_DIR = Path.home() / ".local" / "share" / "deeplearning" / "assets"
HASHES = ("sha256", "md5")


class AssetError(Exception):
    """A problem the user can act on: printed as one line, exit status 1."""
