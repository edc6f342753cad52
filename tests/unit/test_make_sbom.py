"""docker/sbom/make-sbom without a build: a root with a venv holding one wheel, this machine's dpkg
database, an asset index; the SBOM it writes is valid CycloneDX, names the installed wheel's hash from
the pylock, and is the same bytes twice."""

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

REPO = Path(__file__).resolve().parents[2]
MAKE_SBOM = REPO / "docker" / "sbom" / "make-sbom"
WHEEL = "tiny_pkg-1.2.0-py3-none-any.whl"


def wheel(folder):
    """A real wheel of one module: its bytes and sha256."""
    files = {
        "tiny_pkg.py": "X = 1\n",
        "tiny_pkg-1.2.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tiny-pkg\nVersion: 1.2.0\n"
        "License-Expression: MIT\n",
        "tiny_pkg-1.2.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = (
        "".join(
            f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b'=').decode()},"
            f"{len(t)}\n"
            for n, t in files.items()
        )
        + "tiny_pkg-1.2.0.dist-info/RECORD,,\n"
    )
    path = folder / WHEEL
    with zipfile.ZipFile(path, "w") as z:
        for n, t in {**files, "tiny_pkg-1.2.0.dist-info/RECORD": record}.items():
            z.writestr(n, t)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """An image's file system, as far as make-sbom reads it."""
    root = tmp_path_factory.mktemp("root")
    whl, sha = wheel(tmp_path_factory.mktemp("wheels"))
    subprocess.run(
        [
            str(Path(sys.executable).parent / "uv"),
            "venv",
            "-q",
            "--python",
            "/usr/bin/python3",
            str(root / "opt" / "venv"),
        ],
        check=True,
    )
    with zipfile.ZipFile(whl) as z:  # a pure-Python wheel installs by unpacking into site-packages
        z.extractall(next((root / "opt" / "venv" / "lib").glob("python3*")) / "site-packages")
    (root / "var" / "lib").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg").symlink_to("/var/lib/dpkg")
    (root / "etc").mkdir()
    shutil.copy("/etc/os-release", root / "etc" / "os-release")
    (root / "opt" / "assets").mkdir()
    (root / "opt" / "assets" / "index.json").write_text(
        json.dumps(
            {
                "profile": "standin",
                "assets": {
                    "weights": {
                        "provides": "backbone",
                        "md5": "50bc09e76180e00e4465e1a485ddc09d",
                        "license": "Apache-2.0",
                        "url": ["https://example.org/w.h5"],
                        "attribution": "w",
                        "path": "/opt/assets/weights/w.h5",
                    },
                    "textures": {
                        "provides": "dataset",
                        "license": "CC0-1.0",
                        "attribution": "t",
                        "path": "/opt/assets/t",
                    },
                },
            }
        )
    )
    (root / "pylock.toml").write_text(
        f'lock-version = "1.0"\ncreated-by = "test"\n[[packages]]\nname = "tiny-pkg"\n'
        f'version = "1.2.0"\nwheels = [{{ url = "https://files.example/{WHEEL}", '
        f'hashes = {{ sha256 = "{sha}" }} }}]\n'
    )
    return root, sha


def make_sbom(root, out, pylock=None, *extra):
    return subprocess.run(
        [
            sys.executable,
            str(MAKE_SBOM),
            "--root",
            str(root),
            "--pylock",
            str(pylock or root / "pylock.toml"),
            "--image",
            "rucka/deeplearning",
            "--variant",
            "cpu",
            "--arch",
            "amd64",
            "--revision",
            "abc",
            "--version",
            "2026-11-30",
            "--base",
            "local/debian",
            "--base-id",
            "sha256:00",
            "--output",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        env={"SOURCE_DATE_EPOCH": "1796002095"},
    )


def test_the_sbom_is_valid_and_names_the_installed_wheel_and_every_debian_package(root, tmp_path):
    folder, sha = root
    p = make_sbom(folder, tmp_path / "a.json")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "a.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    tiny = [c for c in bom["components"] if c["name"] == "tiny-pkg"]
    assert [h["content"] for h in tiny[0]["hashes"]] == [sha]
    assert tiny[0]["purl"] == "pkg:pypi/tiny-pkg@1.2.0"
    dpkg = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\n"], capture_output=True, text=True).stdout.split()
    assert sorted(c["name"] for c in bom["components"] if c.get("purl", "").startswith("pkg:deb/debian/")) == sorted(
        dpkg
    )
    assets = {c["name"]: c for c in bom["components"] if c["bom-ref"].startswith("asset:")}
    assert assets["weights"]["type"] == "machine-learning-model" and assets["textures"]["type"] == "data"
    assert assets["weights"]["hashes"] == [{"alg": "MD5", "content": "50bc09e76180e00e4465e1a485ddc09d"}]
    assert bom["metadata"]["timestamp"].startswith("2026-11-30T01:28:15")
    assert p.stderr.strip() == f"make-sbom: {tmp_path / 'a.json'}: 1 Python, {len(dpkg)} Debian, 2 assets"


def test_the_same_inputs_give_the_same_bytes(root, tmp_path):
    folder, _ = root
    assert make_sbom(folder, tmp_path / "a.json").returncode == 0
    assert make_sbom(folder, tmp_path / "b.json").returncode == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_package_the_pylock_lacks_fails_in_one_line(root, tmp_path):
    folder, _ = root
    empty = tmp_path / "pylock.toml"
    empty.write_text('lock-version = "1.0"\ncreated-by = "test"\npackages = []\n')
    p = make_sbom(folder, tmp_path / "a.json", pylock=empty)
    assert p.returncode == 1 and not (tmp_path / "a.json").exists()
    assert p.stderr.strip().splitlines() == [
        "make-sbom: tiny-pkg==1.2.0 with tags ['py3-none-any'] is not in the pylock"
    ]


def test_the_image_s_own_package_needs_no_lock_and_gets_no_pypi_purl(root, tmp_path):
    """--own: the package built from the repository (dlkit) is named with the git revision instead."""
    folder, _ = root
    empty = tmp_path / "pylock.toml"
    empty.write_text('lock-version = "1.0"\ncreated-by = "test"\npackages = []\n')
    p = make_sbom(folder, tmp_path / "a.json", empty, "--own", "tiny-pkg")
    assert p.returncode == 0, p.stderr
    (own,) = [c for c in json.loads((tmp_path / "a.json").read_text())["components"] if c["name"] == "tiny-pkg"]
    assert "purl" not in own and "hashes" not in own
    assert {"name": "io.github.rucka.deeplearning:built-from", "value": "src/ at git revision abc"} in own["properties"]
    assert "0 Python" not in p.stderr and "1 own package (dlkit)" in p.stderr


def test_a_package_installed_from_an_asset_s_wheel_is_named_once_as_the_asset(root, tmp_path):
    """spaCy's pipeline: a wheel among the assets (the manifest's hash), pip-installed into the venv."""
    folder, _ = root
    empty = tmp_path / "pylock.toml"
    empty.write_text('lock-version = "1.0"\ncreated-by = "test"\npackages = []\n')
    baked = folder / "opt" / "assets" / "textures"
    baked.mkdir()
    try:
        wheel(baked)
        p = make_sbom(folder, tmp_path / "a.json", empty)
    finally:
        shutil.rmtree(baked)
    assert p.returncode == 0, p.stderr
    names = [c["name"] for c in json.loads((tmp_path / "a.json").read_text())["components"]]
    assert "tiny-pkg" not in names and "textures" in names
    assert "Python" not in p.stderr and "1 asset package" in p.stderr
