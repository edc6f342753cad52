"""When Keras cannot fetch a file (weights="imagenet" offline), say what this image has baked in.

An IPython extension: IPython and every Jupyter kernel load it at start (/etc/ipython/ipython_config.py,
`c.InteractiveShellApp.extensions`), and a program may call install(). It imports nothing and only
wraps Keras's downloader: when Keras loads keras.src.utils.file_utils (at once if it already has),
its get_file is wrapped so that a failed download carries one more line (a PEP 678 note, printed under the error by Python and
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
    if hasattr(get_file, "__wrapped__"):
        return

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


def install():
    """Wrap Keras's get_file now if Keras is loaded, or when it loads (the one use of its internals)."""
    if TARGET in sys.modules:
        wrap(sys.modules[TARGET])
    elif not any(isinstance(h, Hook) for h in sys.meta_path):
        sys.meta_path.insert(0, Hook())


def load_ipython_extension(ipython):
    """IPython's extension API (`%load_ext dlkit.keras_note`, or the configuration's extensions)."""
    install()
