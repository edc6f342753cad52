"""Fetching an asset (mirror, URL or PyPI), checked before use, and installing it atomically."""

import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from . import AssetError
from .manifest import check, provenance, tree_digest

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
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--disable-pip-version-check",
            "--dest",
            str(workdir),
            spec,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
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
    sources = [("mirror", mirror_location(mirror, asset["filename"]))] if mirror else []
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
            target = payload / n[len(member) :]
            if ".." in Path(n).parts:
                raise AssetError(f"{asset['filename']}: member {n!r} would be written outside the folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(n) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
        return payload


def install(asset, source, dest):
    """Put the asset under dest/<name> (atomically) and return its index entry."""
    final = dest / asset["name"]
    staging = Path(tempfile.mkdtemp(prefix=f".{asset['name']}.", dir=dest))
    try:
        if "generate" in asset:
            out = staging / asset["name"]
            cmd = [sys.executable if c == "python" else c.format(out=out) for c in asset["generate"]]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise AssetError(
                    f"{asset['name']}: generating it failed: " + (p.stderr.strip().splitlines() or ["(no message)"])[-1]
                )
            payload = out
        elif "member" in asset:
            payload = extract_member(source, asset, staging)
        elif asset.get("unpack") == "tar":
            safe_extract(source, staging)
            payload = staging / asset.get("root", "")
        else:
            payload = staging / asset["filename"]
            shutil.copyfile(source, payload)
        if "convert" in asset:
            from .convert import CONVERTERS  # the stand-in profile's only: not on the users' path

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
