"""dl-assets: the command (list, fetch, engines, verify, path, link)."""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from ..errors import UserError
from . import MANIFEST, SYSTEM_DIR, USER_DIR, AssetError
from . import __doc__ as OVERVIEW
from .fetch import install, obtain
from .index import find, installed, read_index, write_index
from .manifest import load_manifest, select, tree_digest

# ---- commands -----------------------------------------------------------------------------


def default_dest():
    """Where fetch installs and engines converts: the image's folder if this user may write there
    (the build, root), else the user's own."""
    return SYSTEM_DIR if os.access(SYSTEM_DIR.parent, os.W_OK) else USER_DIR


def cmd_list(args):
    profiles, assets = load_manifest(args.manifest)
    _, _, have = installed()
    print(f"{'name':16} {'provides':9} {'profiles':18} {'size':>9}  {'status':9} license")
    for a in assets:
        if args.profile and args.profile not in a["profiles"]:
            continue
        size = f"{a['size'] / 1e6:.1f} MB" if "size" in a else "-"
        status = "installed" if a["name"] in have and Path(have[a["name"]]["path"]).exists() else "-"
        print(f"{a['name']:16} {a['provides']:9} {','.join(a['profiles']):18} {size:>9}  {status:9} {a['license']}")
    return 0


def cmd_fetch(args):
    profiles, assets = load_manifest(args.manifest)
    if args.profile not in profiles:
        raise AssetError(f"unknown profile {args.profile!r} (known: {', '.join(profiles)})")
    chosen = select(assets, args.profile, args.only)
    dest = Path(args.dest) if args.dest else default_dest()
    dest.mkdir(parents=True, exist_ok=True)
    cache = Path(args.cache or os.environ.get("DL_ASSETS_CACHE") or dest / ".downloads")
    index = read_index(dest)
    if not args.only:
        index.update(
            profile=args.profile, defaults={k: v for k, v in profiles[args.profile].items() if k != "description"}
        )
    for a in chosen:
        source = None if "generate" in a else obtain(a, cache, args.mirror, args.mirror_only)
        index["assets"][a["name"]] = install(a, source, dest)
        print(f"dl-assets: {a['name']}: installed at {index['assets'][a['name']]['path']}")
    write_index(dest, index)
    if not args.keep_downloads and not args.cache and not os.environ.get("DL_ASSETS_CACHE"):
        shutil.rmtree(cache, ignore_errors=True)
    return 0


def cmd_engines(args):
    """Each installed backbone converted for ONNX Runtime (dlkit.engine), beside its weights, in the
    index with its sha256. The build does it; it needs onnx and tf2onnx, which the image leaves out.
    Without them, one line (a backbone without its ONNX file runs on TensorFlow)."""
    import hashlib
    import importlib.util

    dest = Path(args.dest) if args.dest else default_dest()
    index = read_index(dest)
    installed = sorted(n for n, e in index["assets"].items() if e.get("provides") == "backbone")
    unknown = sorted(set(args.only) - set(installed))
    if unknown:
        raise AssetError(
            f"no backbone named {', '.join(unknown)} in {dest} (installed there: {', '.join(installed) or 'none'})"
        )
    missing = [m for m in ("onnx", "tf2onnx") if importlib.util.find_spec(m) is None]
    if missing:
        raise AssetError(
            f"converting needs {' and '.join(missing)}, which the image leaves out (its build converts the"
            " backbones it ships): pip install them, then run this again; until then TensorFlow runs the backbone"
        )

    from ..assets import load_backbone
    from ..engine import ONNX_FILE, export_onnx

    for name, entry in sorted(index["assets"].items()):
        if entry.get("provides") == "backbone" and (not args.only or name in args.only):
            out = Path(entry["path"]).parent / ONNX_FILE
            export_onnx(load_backbone(name)[0], out)
            entry.update(onnx=str(out), onnx_sha256=hashlib.sha256(out.read_bytes()).hexdigest())
            print(f"dl-assets: {name}: converted for ONNX Runtime at {out}")
    write_index(dest, index)
    return 0


def cmd_verify(args):
    _, _, assets = installed()
    bad = 0
    for name, entry in sorted(assets.items()):
        path = Path(entry["path"])
        state = "missing" if not path.exists() else ("ok" if tree_digest(path) == entry["digest"] else "CHANGED")
        bad += state != "ok"
        print(f"{name:16} {state}")
    if not assets:
        raise AssetError("no assets are installed")
    return 1 if bad else 0


def cmd_path(args):
    print(find(args.what))
    return 0


# ---- where the standard loaders look ---------------------------------------------------------

GENSIM_INIT = '''"""{name} for gensim.downloader.load: the vectors baked into this image (dl-assets link)."""
from gensim.models import KeyedVectors


def load_data():
    return KeyedVectors.load({path!r})
'''


def ours(link):
    """True when a cache entry is absent or was made by dl-assets link (never a user's own file)."""
    if link.is_symlink():
        return True
    if link.is_dir():
        init = link / "__init__.py"
        return not init.exists() or init.read_text().startswith('"""' + link.name + " for gensim")
    return not link.exists()


def cmd_link(args):
    """Keras's cache (~/.keras/models) and gensim's (~/gensim-data) answer from the baked assets."""
    home = Path(args.home) if args.home else Path.home()
    keras_home = Path(os.environ.get("KERAS_HOME") or home / ".keras")
    gensim_home = Path(os.environ.get("GENSIM_DATA_DIR") or home / "gensim-data")
    _, _, assets = installed()
    linked = {}
    for name, entry in sorted(assets.items()):
        path = Path(entry["path"])
        if not path.exists():
            continue
        if "keras" in entry and ours(keras_home / entry["keras"]):
            link = keras_home / entry["keras"]
            link.parent.mkdir(parents=True, exist_ok=True)
            link.unlink(missing_ok=True)
            link.symlink_to(path)
        if "gensim" in entry:
            g = entry["gensim"]
            folder = gensim_home / g["name"]
            vectors = path / "vectors.kv" if path.is_dir() else path
            if ours(folder):
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "__init__.py").write_text(GENSIM_INIT.format(name=g["name"], path=str(vectors)))
            linked[g["name"]] = {
                "num_records": g["num_records"],
                "parameters": {"dimension": g["dimension"]},
                "description": entry["attribution"],
                "license": entry["license"],
                "file_name": g["name"] + ".gz",
                "parts": 1,
                "baked_in": str(vectors),
            }
    # gensim.downloader reads its list of models here (and refreshes it when online): ours are
    # added to whatever list is there.
    gensim_home.mkdir(parents=True, exist_ok=True)
    info_path = gensim_home / "information.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError):
        info = {}
    info.setdefault("corpora", {})
    info.setdefault("models", {})
    for g, item in linked.items():
        info["models"].setdefault(g, item)
    tmp = info_path.with_name(info_path.name + ".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    tmp.rename(info_path)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="dl-assets", description=OVERVIEW.splitlines()[0])
    parser.add_argument("--manifest", default=MANIFEST, type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="the manifest's assets and what is installed")
    p.add_argument("--profile")
    p.set_defaults(run=cmd_list)
    p = sub.add_parser("fetch", help="download, verify, unpack and record assets")
    p.add_argument("--profile", default=os.environ.get("ASSETS", "upstream"))
    p.add_argument("--only", nargs="+", default=[], metavar="NAME", help="just these assets (any profile)")
    p.add_argument("--mirror", default=os.environ.get("DL_ASSETS_MIRROR"), help="a folder or base URL tried first")
    p.add_argument("--mirror-only", action="store_true", help="never contact the publishers")
    p.add_argument("--dest", help=f"where to install (default {SYSTEM_DIR}, else {USER_DIR})")
    p.add_argument("--cache", help="where downloads are kept (default: DEST/.downloads, removed after)")
    p.add_argument("--keep-downloads", action="store_true")
    p.set_defaults(run=cmd_fetch)
    p = sub.add_parser("engines", help="convert the installed backbones for ONNX Runtime (build time)")
    p.add_argument("--dest", help=f"the installed assets (default {SYSTEM_DIR}, else {USER_DIR})")
    p.add_argument("--only", nargs="+", default=[], metavar="NAME", help="just these backbones")
    p.set_defaults(run=cmd_engines)
    p = sub.add_parser("verify", help="re-hash installed assets")
    p.set_defaults(run=cmd_verify)
    p = sub.add_parser("path", help="print where an installed asset is")
    p.add_argument("what", help="an asset name, or backbone / dataset for the defaults")
    p.set_defaults(run=cmd_path)
    p = sub.add_parser("link", help="put the installed assets where Keras and gensim look")
    p.add_argument("--home", help="the home folder to link in (default: $HOME)")
    p.set_defaults(run=cmd_link)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (AssetError, UserError) as e:  # UserError: a backbone the library cannot load
        print(f"dl-assets: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"dl-assets: error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dl-assets: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
