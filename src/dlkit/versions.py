"""Print what is in this image: library versions, Python, Debian, build date and git revision,
the asset profile with where each baked-in asset comes from, and the image codecs that come
inside wheels (HEIC's libheif and libde265, AVIF's libavif) with their licenses.

    dl-versions             a table for people
    dl-versions --json      the same as JSON, for scripts and tests
    dl-versions --sbom      the image's SBOM (CycloneDX 1.6 JSON, made at build time from what is
                            installed: Python and Debian packages, assets; the same file as
                            /usr/local/share/deeplearning/sbom.cdx.json)
    dl-versions --manifest  every file under /opt/venv, /opt/assets and /usr/local, one a line:
                            mode, owner, sha256 (or -> the link's target), path, tab-separated. Two builds
                            of the same commit print the same (bench/bench_reproducible.py)

Libraries are the image's direct requirements (requirements.in); each version is read from the
installed package and compared with the lock it was built from. Assets are read from the image's
asset index (/opt/assets/index.json): the stand-in profile says so on its first line.
"""

import argparse
import hashlib
import importlib.metadata as md
import json
import os
import platform
import sys

from .lock import direct_pins  # the same reader as build.sh's labels and the tests

SHARE = "/usr/local/share/deeplearning"

PROFILES = {
    "upstream": "the publishers' files",
    "standin": "PyPI stand-ins for machines that reach only PyPI: not the publishers' files",
}


def assets():
    try:
        with open(os.environ.get("DL_ASSETS_DIR", "/opt/assets") + "/index.json") as f:
            index = json.load(f)
    except (OSError, ValueError):
        return {"profile": None, "assets": {}}
    keep = ("provides", "source", "sha256", "md5", "license", "attribution", "keras", "package")
    return {
        "profile": index.get("profile"),
        "assets": {n: {k: a[k] for k in keep if k in a} for n, a in sorted(index["assets"].items())},
    }


def codecs():
    """Image codecs that arrive inside wheels, not as Debian packages: version, wheel, license."""
    import pi_heif
    from PIL import features

    heif = pi_heif.libheif_info()
    de265 = heif["decoders"].get("libde265", "").rpartition("version ")[2] or None
    return {
        "libheif": {"version": heif["libheif"], "in": "pi-heif", "license": "LGPL-3.0-or-later"},
        "libde265": {"version": de265, "in": "pi-heif", "license": "LGPL-3.0-or-later"},
        "libavif": {"version": features.version("avif"), "in": "pillow", "license": "BSD-2-Clause"},
    }


def facts():
    libs = {}
    for name, locked in direct_pins(
        os.path.join(SHARE, "requirements.in"), os.path.join(SHARE, "requirements.txt")
    ).items():
        try:
            installed = md.version(name)
        except md.PackageNotFoundError:
            installed = None
        libs[name] = {"installed": installed, "locked": locked}
    with open("/etc/debian_version") as f:
        debian = f.read().strip()
    return {
        "image_version": os.environ.get("DL_IMAGE_VERSION", "unknown"),
        "build_date": os.environ.get("DL_BUILD_DATE", "unknown"),
        "git_revision": os.environ.get("DL_VCS_REF", "unknown"),
        "python": platform.python_version(),
        "debian": debian,
        "machine": platform.machine(),
        "libraries": libs,
        "assets": assets(),
        "codecs": codecs(),
    }


MANIFEST_ROOTS = ("/opt/venv", "/opt/assets", "/usr/local")


def manifest(roots=MANIFEST_ROOTS):
    """(path, mode, owner, sha256 or '-> target' or '-') of every file, folder and link under roots."""
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for path in [folder] + [
                os.path.join(folder, n)
                for n in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]
            ]:
                st = os.lstat(path)
                if os.path.islink(path):
                    what = "-> " + os.readlink(path)
                elif os.path.isfile(path):
                    h = hashlib.sha256()
                    with open(path, "rb") as f:
                        while chunk := f.read(1 << 20):
                            h.update(chunk)
                    what = h.hexdigest()
                else:
                    what = "-"
                yield path, "%o" % st.st_mode, f"{st.st_uid}:{st.st_gid}", what


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--sbom", action="store_true", help="print the image's SBOM (CycloneDX JSON)")
    parser.add_argument(
        "--manifest",
        action="store_true",
        help="every file under /opt/venv, /opt/assets, /usr/local: mode, owner, sha256, path",
    )
    args = parser.parse_args()
    if args.sbom:
        with open(os.path.join(SHARE, "sbom.cdx.json")) as f:
            sys.stdout.write(f.read())
        return 0
    if args.manifest:
        for path, mode, owner, what in manifest():
            print(f"{mode}\t{owner}\t{what}\t{path}")
        return 0
    info = facts()
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        print()
    else:
        for key in ("image_version", "build_date", "git_revision", "python", "debian", "machine"):
            print("%-24s %s" % (key.replace("_", " "), info[key]))
        print()
        for name, v in sorted(info["libraries"].items()):
            mark = "" if v["installed"] == v["locked"] else "   (lock says %s)" % v["locked"]
            print("%-24s %s%s" % (name, v["installed"] or "MISSING", mark))
        profile = info["assets"]["profile"]
        print()
        print("%-24s %s (%s)" % ("asset profile", profile, PROFILES.get(profile, "unknown")))
        for name, a in info["assets"]["assets"].items():
            print("  %-22s %-9s %s, %s" % (name, a["provides"], a.get("source", "?"), a["license"]))
        print()
        for name, c in info["codecs"].items():
            print("%-24s %s (in %s; %s)" % ("codec " + name, c["version"], c["in"], c["license"]))
    drift = [n for n, v in info["libraries"].items() if v["installed"] != v["locked"]]
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
