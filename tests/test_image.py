"""What is installed in the image: the locked libraries, and nothing unpinned or unneeded."""

import json
import tomllib

import pytest
from support.containers import REPO, REQUIREMENTS, VARIANT, direct_requirements, payload

pytestmark = pytest.mark.variant

LIBRARIES = direct_requirements(REQUIREMENTS / f"{VARIANT}.in")
# Distribution name -> module to import, where they differ.
MODULE = {
    "tensorflow-cpu": "tensorflow",
    "tensorflow": "tensorflow",
    "opencv-python-headless": "cv2",
    "scikit-learn": "sklearn",
    "scikit-image": "skimage",
    "pillow": "PIL",
    "pytest-testinfra": "testinfra",
    "jupyterhub": "jupyterhub.singleuser",
}


@pytest.fixture(scope="session")
def imported(host):
    """Import every direct requirement in one Python process in the container."""
    mapping = {d: MODULE.get(d, d.replace("-", "_")) for d in LIBRARIES}
    out = host.check_output("python -c %s %s", payload("import_all.py"), json.dumps(mapping))
    return json.loads(out)


@pytest.mark.parametrize("dist", LIBRARIES)
def test_library_imports_at_locked_version(imported, lock, dist):
    got = imported[dist]
    assert got["error"] is None, f"import of {dist} failed: {got['error']}"
    assert got["version"] == lock[dist]


def test_opencv_is_4x_with_haar_cascades(host):
    out = host.check_output(
        "python -c %s",
        "import cv2, os; c = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, "
        "'haarcascade_frontalface_default.xml')); print(cv2.__version__, c.empty())",
    )
    version, empty = out.split()
    assert version.startswith("4.") and empty == "False"


def test_pip_check_is_clean(host):
    cmd = host.run("pip check")
    assert cmd.rc == 0, cmd.stdout + cmd.stderr


def test_everything_installed_is_in_the_lock(host, lock):
    installed = json.loads(host.check_output("pip list -v --format json"))
    extra = {
        p["name"].lower(): p["version"]
        for p in installed
        if lock.get(p["name"].lower().replace("_", "-")) != p["version"]
    }
    # Beside the lock: the image's own library (pyproject.toml), and the wheels among the assets
    # (spaCy's pipeline, checked against the manifest's hash), installed by pip into the venv.
    wheels = [w.rsplit("/", 1)[1].split("-") for w in host.check_output("ls /opt/assets/*/*.whl").split()]
    from_assets = {name.lower(): version for name, version, *_ in wheels}
    assert set(from_assets) == {"en_core_web_sm"}
    own = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert extra == {"dlkit": own, **from_assets}
    assert all(p["location"] == "/opt/venv/lib/python3.11/site-packages" for p in installed)
    assert host.run("pip show -f en_core_web_sm").stdout.count("en_core_web_sm/") > 10


def test_dl_versions_reports_the_lock(host, lock):
    cmd = host.run("dl-versions --json")
    assert cmd.rc == 0, cmd.stderr
    info = json.loads(cmd.stdout)
    assert {n: v["installed"] for n, v in info["libraries"].items()} == {n: lock[n] for n in LIBRARIES}
    assert info["python"].startswith("3.11.")
    assert info["debian"].startswith("12.")
    assert info["git_revision"] != "unknown" and info["build_date"] != "unknown"
    lgpl = ("pi-heif", "LGPL-3.0-or-later")
    codecs = {"libheif": lgpl, "libde265": lgpl, "libavif": ("pillow", "BSD-2-Clause")}
    assert {name: (c["in"], c["license"]) for name, c in info["codecs"].items()} == codecs
    assert all(c["version"] for c in info["codecs"].values())


def test_dl_versions_table_is_readable(host, lock):
    table = host.check_output("dl-versions")
    tf = next(name for name in LIBRARIES if name.startswith("tensorflow"))
    assert f"{tf:24s} {lock[tf]}" in table
    assert "python" in table and "git revision" in table


def test_labels_match_the_lock(image, lock):
    labels = image["Config"]["Labels"]
    prefix = "io.github.rucka.deeplearning.lib."
    libs = {k[len(prefix) :]: v for k, v in labels.items() if k.startswith(prefix)}
    assert libs == {n: lock[n] for n in LIBRARIES}
    assert labels["org.opencontainers.image.revision"] != "unknown"
    assert labels["org.opencontainers.image.created"].endswith("Z")


def test_no_compiler_in_the_image(host):
    for tool in ("gcc", "cc", "g++", "make"):
        assert not host.exists(tool), f"{tool} is in the final image"


def test_debian_packages_are_at_their_locked_versions(host):
    locked = dict(
        line.split("=", 1)
        for line in (REQUIREMENTS / "apt-os.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name, version in locked.items():
        assert host.package(name).version == version, name
