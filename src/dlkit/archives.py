"""Datasets and images that arrive as an archive (.zip, .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz).

- `folder_of(path, cache)`: path itself when it is a folder; for an archive, the folder it unpacks
  to, made once in cache/<its content's hash> (the archive is only read, never changed), so the
  same archive is the same folder on every run and the split stays the same.
- Unpacking is safe: a member that would land outside the folder (an absolute path, ..) refuses
  the archive; links, devices and pipes are skipped with a note; the unpacked size has a cap; an
  interrupted unpacking leaves nothing behind that a later run would take for complete.
- The cache may be read-only (a model folder mounted :ro for ./evaluate.sh): the archive is then
  unpacked under the temporary folder instead.
- The dataset is where its classes are: one folder wrapping everything (simpsons.zip holding
  simpsons/homer/...) is entered, as are archivers' own entries (__MACOSX/) left out.
"""

import contextlib
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .bottlenecks import content_hash
from .dataset import is_junk
from .errors import UserError

MAX_UNPACKED = 16 << 30  # bytes: bigger than any workshop dataset; unpack such an archive yourself


def is_archive(path):
    path = Path(path)
    return path.is_file() and (zipfile.is_zipfile(path) or _is_tar(path))


def _is_tar(path):
    try:
        return tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError):
        return False


@contextlib.contextmanager
def members(archive):
    """with members(archive) as listed: [(name, size, kind, open)]: kind is "dir", "file" or
    "other" (links, devices); open() reads a file member while the archive is open."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            listed = []
            for info in z.infolist():
                mode = info.external_attr >> 16
                kind = (
                    "dir" if info.is_dir() else "other" if mode and (mode & 0o170000) not in (0, 0o100000) else "file"
                )
                listed.append((info.filename, info.file_size, kind, lambda info=info: z.open(info)))
            yield listed
        return
    with tarfile.open(archive) as t:
        yield [
            (m.name, m.size, "dir" if m.isdir() else "file" if m.isfile() else "other", lambda m=m: t.extractfile(m))
            for m in t.getmembers()
        ]


def safe_relative(name):
    """The member's path inside the folder, or None when it would land outside it."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return None
    return PurePosixPath(*[p for p in path.parts if p != "."])


def unpack(archive, target, cap=MAX_UNPACKED):
    """Unpack archive into the new folder target; returns how many members were skipped (links...)."""
    with members(archive) as listed:
        total, skipped = 0, 0
        for name, size, kind, _ in listed:
            if safe_relative(name) is None:
                raise UserError(f"{archive}: refused: its member {name!r} would be written outside the folder")
            total += size if kind == "file" else 0
        if total > cap:
            raise UserError(
                f"{archive} unpacks to {total / 2**30:.1f} GiB, over the {cap / 2**30:.0f} GiB this program unpacks: "
                f"unpack it yourself and give the folder"
            )
        for name, _, kind, read in listed:
            relative = safe_relative(name)
            if kind == "other":
                skipped += 1
            elif str(relative) != ".":
                out = target.joinpath(relative)
                if kind == "dir":
                    out.mkdir(parents=True, exist_ok=True)
                else:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with read() as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        return skipped


def dataset_root(folder):
    """The folder where the content starts: a single folder wrapping everything is entered."""
    while True:
        entries = [e for e in folder.iterdir() if not is_junk(e.name)]
        if len(entries) != 1 or not entries[0].is_dir() or not any(e.is_dir() for e in entries[0].iterdir()):
            return folder
        folder = entries[0]


def folder_of(path, cache):
    """path (as given) if it is not an archive; else the folder its content is unpacked to (once)
    in cache."""
    if not is_archive(path):
        return path
    path = Path(path)
    done = _writable(Path(cache)) / content_hash(path)[:16]
    if not done.is_dir():
        work = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=done.parent))
        try:
            skipped = unpack(path, work)
            work.rename(done)  # complete, or not there at all
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
            shutil.rmtree(work, ignore_errors=True)
            raise UserError(f"{path}: a damaged archive ({e})") from None
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        links = f"; {skipped} links or special files left out" if skipped else ""
        print(f"note: unpacked {path} into {done}{links}", file=sys.stderr)
    return dataset_root(done)


def _writable(cache):
    """cache, made if need be; or, where it cannot be written, a folder under the temporary one."""
    with contextlib.suppress(OSError):
        cache.mkdir(parents=True, exist_ok=True)
        if os.access(cache, os.W_OK):
            return cache
    fallback = Path(tempfile.gettempdir()) / "dl-archives"
    fallback.mkdir(exist_ok=True)
    return fallback
