"""dl-assets: list, fetch, verify and find the image's assets (model weights, datasets).

    dl-assets list   [--profile P]               what the manifest has, and what is installed
    dl-assets fetch  [--profile P] [--only NAME]  download, check size and hash, unpack, record
                     [--mirror DIR|URL] [--mirror-only]
    dl-assets verify                              re-hash what is installed against the index
    dl-assets path   NAME|backbone|dataset        where an installed asset is (for scripts)
    dl-assets link   [--home DIR]                 put the installed assets where the standard
                                                  loaders look: ~/.keras/models, ~/gensim-data
    dl-assets pythonpath                          folders of installed Python packages (spaCy's)

The manifest (docker/assets/manifest.toml in the repository) lists every asset with its sources,
size, hash, license and attribution. A hash mismatch is an error, never a warning: the file is
deleted and nothing is installed. A mirror (--mirror or DL_ASSETS_MIRROR: a folder, or a base URL
serving the same file names) is tried before the publishers, for air-gapped sites.
Standard calls: an asset with `keras = "models/FILE"` answers Keras's get_file (weights="imagenet")
from ~/.keras/models/FILE; one with `gensim = "NAME"` answers gensim.downloader.load("NAME"); one
unpacked from a wheel (`unpack = "wheel"`) is a folder on Python's path (spacy.load("en_core_web_sm")).
Environment: DL_ASSETS_MANIFEST, DL_ASSETS_DIR (default /opt/assets), DL_ASSETS_CACHE (downloads),
DL_ASSETS_MIRROR, DL_ASSETS_CA (a CA bundle for HTTPS behind an intercepting proxy).
"""
import argparse
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

MANIFEST = Path(os.environ.get("DL_ASSETS_MANIFEST", "/usr/local/share/deeplearning/assets.toml"))
SYSTEM_DIR = Path(os.environ.get("DL_ASSETS_DIR", "/opt/assets"))
USER_DIR = Path.home() / ".local" / "share" / "deeplearning" / "assets"
HASHES = ("sha256", "md5")


class AssetError(Exception):
    """A problem the user can act on: printed as one line, exit status 1."""


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
        raise AssetError(f"{asset['name']}: {asset['filename']} is {size} bytes, the manifest says "
                         f"{asset['size']}: the download is incomplete or not the published file")
    for algorithm in HASHES:
        if algorithm in asset:
            got = file_hash(path, algorithm)
            if got != asset[algorithm]:
                raise AssetError(f"{asset['name']}: {algorithm} mismatch for {asset['filename']} "
                                 f"(expected {asset[algorithm]}, got {got}): corrupt or tampered with")


# ---- downloading --------------------------------------------------------------------------

def ca_bundle():
    """The CA bundle for HTTPS behind an intercepting proxy: DL_ASSETS_CA, or the build's secret."""
    return os.environ.get("DL_ASSETS_CA") or ("/run/secrets/ca" if os.path.exists("/run/secrets/ca") else None)


def ssl_context():
    ca = ca_bundle()
    return ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()


def download(url, target, desc):
    from tqdm import tqdm  # the venv's; imported here so `path` stays fast

    if "://" not in url:  # a mirror folder
        shutil.copyfile(url, target)
        return
    with urllib.request.urlopen(url, timeout=60, context=ssl_context()) as r, open(target, "wb") as out:
        total = int(r.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=None, leave=False) as bar:
            while chunk := r.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))


def pip_download(spec, filename, workdir):
    env = dict(os.environ)
    ca = ca_bundle()
    if ca:
        env["PIP_CERT"] = ca
    p = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        "--disable-pip-version-check", "--dest", str(workdir), spec],
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise OSError((p.stderr.strip().splitlines() or ["pip download failed"])[-1])
    got = workdir / filename
    if not got.exists():
        raise OSError(f"pip download of {spec} did not give {filename}")
    return got


def mirror_location(mirror, filename):
    if "://" in mirror:
        return mirror.rstrip("/") + "/" + filename
    return str(Path(mirror) / filename)


def obtain(asset, cache, mirror=None, mirror_only=False):
    """Path of a verified copy of the asset's file in cache, downloading it if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / asset["filename"]
    if target.exists():
        try:
            check(asset, target)
            return target
        except AssetError:
            target.unlink()  # a stale or partial file: fetch it again
    tried = []
    sources = ([("mirror", mirror_location(mirror, asset["filename"]))] if mirror else [])
    if not mirror_only:
        sources += [("url", u) for u in asset.get("url", [])]
        if "pypi" in asset:
            sources.append(("pypi", asset["pypi"]))
    for kind, where in sources:
        part = target.with_name(target.name + ".part")
        try:
            if kind == "pypi":
                with tempfile.TemporaryDirectory(dir=cache) as tmp:
                    shutil.move(pip_download(where, asset["filename"], Path(tmp)), part)
            else:
                download(where, part, asset["name"])
        except (OSError, urllib.error.URLError) as e:
            part.unlink(missing_ok=True)
            tried.append(f"{where} ({getattr(e, 'reason', None) or e})")
            continue
        try:
            check(asset, part)
        except AssetError:
            part.unlink()
            raise
        part.rename(target)
        return target
    if not sources:
        raise AssetError(f"{asset['name']}: no source to fetch it from (a mirror is needed with --mirror-only)")
    raise AssetError(f"{asset['name']}: could not download it; tried " + "; ".join(tried))


# ---- installing ---------------------------------------------------------------------------

def safe_extract(archive, dest):
    """Unpack regular files and folders only, refusing paths that leave dest."""
    dest = dest.resolve()
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            target = (dest / m.name).resolve()
            if not str(target).startswith(str(dest) + os.sep) and target != dest:
                raise AssetError(f"{archive.name}: member {m.name!r} would be written outside the folder")
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif m.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(m) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)


def extract_member(source, asset, staging):
    """Take one file (or a folder, for a name ending in "/") out of a zip or wheel."""
    member = asset["member"]
    with zipfile.ZipFile(source) as z:
        names = [n for n in z.namelist() if n == member or (member.endswith("/") and n.startswith(member))]
        if not names:
            raise AssetError(f"{asset['name']}: {member} is not in {asset['filename']}")
        if not member.endswith("/"):
            payload = staging / Path(member).name
            with z.open(member) as src, open(payload, "wb") as out:
                shutil.copyfileobj(src, out)
            return payload
        payload = staging / Path(member.rstrip("/")).name
        for n in names:
            if n.endswith("/"):
                continue
            target = payload / n[len(member):]
            if ".." in Path(n).parts:
                raise AssetError(f"{asset['filename']}: member {n!r} would be written outside the folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(n) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
        return payload


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
    summary = (f"{name} {meta['version']}, issued by this image from {provenance(asset)}, "
               f"sha256 {asset['sha256']}: {asset['attribution']}")
    meta.update(lang=lang, name=short, description=summary + "\n\n" + meta.get("description", ""))
    pkg = out_dir / name
    shutil.copytree(meta_src.parent / f"{old_pkg}-{meta['version']}", pkg / data_dir)
    for m in (pkg / "meta.json", pkg / data_dir / "meta.json"):
        m.write_text(json.dumps(meta, indent=2) + "\n")
    (pkg / "__init__.py").write_text(SPACY_INIT.format(summary=summary))
    info = out_dir / f"{name}-{meta['version']}.dist-info"
    info.mkdir()
    requires = next((line for line in (next(src.glob("*.dist-info")) / "METADATA").read_text().splitlines()
                     if line.startswith("Requires-Dist:")), "")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {meta['version']}\n"
                                   f"Summary: {summary}\nLicense: {meta.get('license', '')}\n{requires}\n")
    (info / "entry_points.txt").write_text(f"[spacy_models]\n{name} = {name}\n")
    (info / "INSTALLER").write_text("dl-assets\n")
    return out_dir


CONVERTERS = {"glove-npy-parquet": glove_npy_parquet, "spacy-rename": spacy_rename}


def install(asset, source, dest):
    """Put the asset under dest/<name> (atomically) and return its index entry."""
    final = dest / asset["name"]
    staging = Path(tempfile.mkdtemp(prefix=f".{asset['name']}.", dir=dest))
    try:
        if "generate" in asset:
            out = staging / asset["name"]
            cmd = [sys.executable if c == "python" else c.format(out=out)
                   for c in asset["generate"]]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise AssetError(f"{asset['name']}: generating it failed: "
                                 + (p.stderr.strip().splitlines() or ["(no message)"])[-1])
            payload = out
        elif "member" in asset:
            payload = extract_member(source, asset, staging)
        elif asset.get("unpack") == "wheel":  # a pure-Python wheel is a folder for sys.path as it is
            payload = staging / "site"
            with zipfile.ZipFile(source) as z:
                if any(".." in Path(n).parts or n.startswith("/") for n in z.namelist()):
                    raise AssetError(f"{asset['filename']}: a member would be written outside the folder")
                z.extractall(payload)
        elif asset.get("unpack") == "tar":
            safe_extract(source, staging)
            payload = staging / asset.get("root", "")
        else:
            payload = staging / asset["filename"]
            shutil.copyfile(source, payload)
        if "convert" in asset:
            payload = CONVERTERS[asset["convert"]](payload, staging / "converted", asset)
        # dest/<name> is the asset itself: a file's folder, or the dataset's root folder.
        if payload.is_file():
            wrapped = staging / ".payload"
            wrapped.mkdir()
            payload = Path(shutil.move(str(payload), wrapped / payload.name))
            folder, inner = wrapped, payload.name
        else:
            folder, inner = payload, None
        if final.exists():
            shutil.rmtree(final)
        folder.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    path = final / inner if inner else final
    entry = {k: v for k, v in asset.items() if k not in ("generate", "profiles")}
    entry.update(path=str(path), digest=tree_digest(path), source=provenance(asset))
    return entry


def provenance(asset):
    """Where an asset came from, in a few words: the URL, the PyPI release, or the generator."""
    if "generate" in asset:
        return "generated at build time: " + " ".join(asset["generate"][1:]).replace("{out}", "DIR")
    if "pypi" in asset:
        return f"PyPI {asset['pypi']} ({asset['filename']})"
    return asset["url"][0]


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
    how = (f"dl-assets fetch --only {name} (needs the network or --mirror)"
           if name in {a["name"] for a in load_manifest()[1]} else "dl-assets list shows what exists")
    raise AssetError(f"asset {name!r} is not in this image (profile {profile or 'none'}); get it with: {how}")


# ---- commands -----------------------------------------------------------------------------

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
    dest = Path(args.dest) if args.dest else (SYSTEM_DIR if os.access(SYSTEM_DIR.parent, os.W_OK) else USER_DIR)
    dest.mkdir(parents=True, exist_ok=True)
    cache = Path(args.cache or os.environ.get("DL_ASSETS_CACHE") or dest / ".downloads")
    index = read_index(dest)
    if not args.only:
        index.update(profile=args.profile,
                     defaults={k: v for k, v in profiles[args.profile].items() if k != "description"})
    for a in chosen:
        source = None if "generate" in a else obtain(a, cache, args.mirror, args.mirror_only)
        index["assets"][a["name"]] = install(a, source, dest)
        print(f"dl-assets: {a['name']}: installed at {index['assets'][a['name']]['path']}")
    write_index(dest, index)
    if not args.keep_downloads and not args.cache and not os.environ.get("DL_ASSETS_CACHE"):
        shutil.rmtree(cache, ignore_errors=True)
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


def cmd_pythonpath(args):
    """The folders of installed Python packages (unpacked wheels), one a line: for a .pth file."""
    _, _, assets = installed()
    for _, entry in sorted(assets.items()):
        if entry.get("unpack") == "wheel":
            print(entry["path"])
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
                "num_records": g["num_records"], "parameters": {"dimension": g["dimension"]},
                "description": entry["attribution"], "license": entry["license"],
                "file_name": g["name"] + ".gz", "parts": 1, "baked_in": str(vectors)}
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
    parser = argparse.ArgumentParser(prog="dl-assets", description=__doc__.splitlines()[0])
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
    p = sub.add_parser("verify", help="re-hash installed assets")
    p.set_defaults(run=cmd_verify)
    p = sub.add_parser("path", help="print where an installed asset is")
    p.add_argument("what", help="an asset name, or backbone / dataset for the defaults")
    p.set_defaults(run=cmd_path)
    p = sub.add_parser("link", help="put the installed assets where Keras and gensim look")
    p.add_argument("--home", help="the home folder to link in (default: $HOME)")
    p.set_defaults(run=cmd_link)
    p = sub.add_parser("pythonpath", help="folders of installed Python packages, for a .pth file")
    p.set_defaults(run=cmd_pythonpath)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except AssetError as e:
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
