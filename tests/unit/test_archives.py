"""Datasets as archives: unpacked once, safely, into a cache keyed by the archive's content."""

import hashlib
import io
import os
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

from dlkit import archives
from dlkit.errors import UserError


def make_zip(path, names):
    with zipfile.ZipFile(path, "w") as z:
        for name in names:
            z.writestr(name, b"" if name.endswith("/") else name.encode())
    return path


def make_tar(path, members):
    """members: [(name, type, link target)] of a .tar.gz."""
    with tarfile.open(path, "w:gz") as t:
        for name, kind, target in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target or ""
            data = name.encode() if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_zip_unpacks_once_into_its_classes_and_stays_unchanged(tmp_path, capsys):
    archive = make_zip(
        tmp_path / "simpsons.zip",
        ["simpsons/", "simpsons/homer/h1.jpg", "simpsons/bart/b1.jpg", "__MACOSX/simpsons/._h1.jpg"],
    )
    before = digest(archive)
    root = archives.folder_of(archive, tmp_path / "cache")
    assert root.name == "simpsons" and sorted(p.name for p in root.iterdir()) == ["bart", "homer"]
    assert (root / "homer" / "h1.jpg").read_bytes() == b"simpsons/homer/h1.jpg"
    assert "note: unpacked" in capsys.readouterr().err
    assert archives.folder_of(archive, tmp_path / "cache") == root  # the same folder: the same split
    assert capsys.readouterr().err == ""  # not unpacked again
    assert digest(archive) == before


def test_a_folder_is_itself(tmp_path):
    assert archives.folder_of(tmp_path, tmp_path / "cache") == tmp_path


@pytest.mark.parametrize("name", ["../evil.jpg", "/etc/evil.jpg", "a/../../evil.jpg"])
def test_a_member_outside_the_folder_refuses_the_archive_and_leaves_nothing(tmp_path, name):
    archive = make_tar(tmp_path / "bad.tar.gz", [("a/ok.jpg", tarfile.REGTYPE, None), (name, tarfile.REGTYPE, None)])
    with pytest.raises(UserError, match=r"bad\.tar\.gz: refused: its member .* would be written outside the folder"):
        archives.folder_of(archive, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
    assert not (tmp_path / "evil.jpg").exists()


def test_links_are_left_out_with_a_note(tmp_path, capsys):
    archive = make_tar(
        tmp_path / "links.tar.gz",
        [
            ("cats/c1.jpg", tarfile.REGTYPE, None),
            ("dogs/d1.jpg", tarfile.REGTYPE, None),
            ("cats/passwd.jpg", tarfile.SYMTYPE, "/etc/passwd"),
            ("dogs/hard.jpg", tarfile.LNKTYPE, "/etc/passwd"),
        ],
    )
    root = archives.folder_of(archive, tmp_path / "cache")
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()) == [
        "cats/c1.jpg",
        "dogs/d1.jpg",
    ]
    assert "2 links or special files left out" in capsys.readouterr().err


def test_an_archive_over_the_cap_is_one_line(tmp_path):
    archive = make_zip(tmp_path / "big.zip", ["a/x.jpg", "b/y.jpg"])
    with pytest.raises(UserError, match=r"big\.zip unpacks to 0\.0 GiB, over the 0 GiB .*: unpack it yourself"):
        archives.unpack(archive, tmp_path / "out", cap=4)


def test_a_damaged_archive_is_one_line_and_leaves_nothing(tmp_path):
    good = make_zip(tmp_path / "good.zip", ["a/x.jpg", "b/y.jpg"]).read_bytes()
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(good.replace(b"a/x.jpg", b"a/x.jpX", 1))  # a member's bytes no longer match its CRC
    with pytest.raises(UserError, match=r"damaged\.zip: a damaged archive \("):
        archives.folder_of(damaged, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_the_archive_is_open_only_while_its_members_are_read(tmp_path):
    def open_files():
        return {os.readlink(fd) for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink()}

    for archive in (
        make_tar(tmp_path / "pets.tar.gz", [("cats/c1.jpg", tarfile.REGTYPE, None)]),
        make_zip(tmp_path / "pets.zip", ["cats/c1.jpg"]),
    ):
        with archives.members(archive) as listed:
            assert str(archive) in open_files()
            with listed[-1][3]() as member:
                assert member.read() == b"cats/c1.jpg"
        assert str(archive) not in open_files() and listed  # closed, though the list lives on


def test_an_unwritable_cache_unpacks_under_the_temporary_folder(tmp_path, monkeypatch):
    """./evaluate.sh with the model folder mounted :ro still reads an archive of images."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    blocked = tmp_path / "models"
    blocked.write_text("a file where the cache's folder would be")
    archive = make_zip(tmp_path / "pets.zip", ["pets/cats/c1.jpg", "pets/dogs/d1.jpg"])
    root = archives.folder_of(archive, blocked / ".archives")
    assert root.is_relative_to(tmp_path / "tmp" / "dl-archives") and (root / "cats" / "c1.jpg").is_file()
    assert blocked.read_text() == "a file where the cache's folder would be"
