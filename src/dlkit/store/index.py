"""The index of installed assets (index.json): the image's, under the user's."""

import json
from pathlib import Path

from . import SYSTEM_DIR, USER_DIR, AssetError
from .manifest import load_manifest

# ---- the index of installed assets ----------------------------------------------------------


def read_index(folder):
    try:
        with open(folder / "index.json") as f:
            return json.load(f)
    except FileNotFoundError:
        return {"profile": None, "defaults": {}, "assets": {}}
    except (OSError, ValueError) as e:
        raise AssetError(f"{folder / 'index.json'} is unreadable ({e}); run dl-assets fetch again")


def write_index(folder, index):
    tmp = folder / "index.json.tmp"
    tmp.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    tmp.rename(folder / "index.json")


def installed():
    """Installed assets, the user's folder over the image's: (defaults, profile, {name: entry})."""
    system, user = read_index(SYSTEM_DIR), read_index(USER_DIR)
    assets = {**system["assets"], **user["assets"]}
    return {**system["defaults"], **user.get("defaults", {})}, system["profile"], assets


def find(what):
    """Path of an installed asset by name, or the default one of a kind (backbone, dataset)."""
    defaults, profile, assets = installed()
    name = defaults.get(what, what)
    if name in assets and Path(assets[name]["path"]).exists():
        return assets[name]["path"]
    how = (
        f"dl-assets fetch --only {name} (needs the network or --mirror)"
        if name in {a["name"] for a in load_manifest()[1]}
        else "dl-assets list shows what exists"
    )
    raise AssetError(f"asset {name!r} is not in this image (profile {profile or 'none'}); get it with: {how}")
