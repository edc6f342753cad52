"""When Keras cannot fetch a file (weights="imagenet" offline), say what this image has baked in.

The venv's deeplearning.pth imports this module at interpreter start. It imports nothing and only
adds an import hook: when Keras loads keras.src.utils.file_utils, its get_file is wrapped so that a
failed download carries one more line (a PEP 678 note, printed under the error by Python and
IPython) naming the image's asset profile and the Keras files it bakes in. Keras is otherwise
unchanged; the files it finds in ~/.keras/models (dl-assets link) load as they always do.
"""

import sys

TARGET = "keras.src.utils.file_utils"
INDEX = "/opt/assets/index.json"


def note():
    import json
    import os

    try:
        with open(INDEX) as f:
            index = json.load(f)
    except (OSError, ValueError):
        index = {"assets": {}}
    profile = index.get("profile") or os.environ.get("DL_ASSETS_PROFILE", "unknown")
    baked = sorted(a["keras"].rsplit("/", 1)[-1] for a in index["assets"].values() if "keras" in a)
    what = (
        ("bakes in " + ", ".join(baked))
        if baked
        else "bakes in no Keras weights (its networks are stand-ins, not ImageNet's)"
    )
    return (
        f"rucka/deeplearning: this image's asset profile is {profile!r}: it {what}; "
        "anything else needs the network (dl-versions lists the assets)"
    )


def wrap(module):
    get_file = module.get_file

    def get_file_with_note(*args, **kwargs):
        try:
            return get_file(*args, **kwargs)
        except Exception as e:
            e.add_note(note())
            raise

    get_file_with_note.__wrapped__ = get_file
    get_file_with_note.__doc__ = get_file.__doc__
    module.get_file = get_file_with_note


class Hook:
    """A meta path finder that steps aside, lets Python find TARGET, and wraps it once executed."""

    def find_spec(self, name, path=None, target=None):
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_wrap(module):
            exec_module(module)
            wrap(module)

        spec.loader.exec_module = exec_and_wrap
        return spec


if not any(isinstance(h, Hook) for h in sys.meta_path) and TARGET not in sys.modules:
    sys.meta_path.insert(0, Hook())
