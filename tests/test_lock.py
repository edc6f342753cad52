"""The image holds exactly its lock, says so file by file, and keeps it when a user runs `pip install`."""

import json
import os
import re
import tomllib

import pytest
from support.containers import REPO, REQUIREMENTS, run

SITE = "/opt/venv/lib/python3.11/site-packages/"
ROOTFS_VENV = REPO / "docker" / "rootfs" / "opt" / "venv"
LOCKED_AT = next(
    line for line in (REQUIREMENTS / "locked-at.txt").read_text().splitlines() if line and not line.startswith("#")
)


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="session")
def manifest(image):
    """`dl-versions --manifest` of the image: {path: (mode, owner, sha256 or link or '-')}."""
    p = run("--network", "none", "--user", "0", command=["dl-versions", "--manifest"])
    assert p.returncode == 0, p.stderr
    entries = {}
    for line in p.stdout.splitlines():
        mode, owner, what, path = line.split("\t")
        entries[path] = (mode, owner, what)
    return entries


@pytest.mark.variant
def test_the_venv_holds_the_lock_and_nothing_else(manifest, lock):
    """Every distribution in the venv, read off the manifest's *.dist-info folders: the lock's
    names at the lock's versions, none missing and none beside them."""
    installed, baked = {}, {}
    for path in manifest:
        m = re.fullmatch(re.escape(SITE) + r"([^/]+)-([^-/]+)\.dist-info", path)
        if m:
            installed[normalise(m.group(1))] = m.group(2)
        m = re.fullmatch(r"/opt/assets/[^/]+/([^/-]+)-([^-/]+)-[^/]+\.whl", path)
        if m:
            baked[normalise(m.group(1))] = m.group(2)
    # Beside the lock: the image's own library (pyproject.toml), and the wheels among the assets
    # (spaCy's pipeline), at their versions; nothing else.
    assert installed.pop("dlkit") == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert set(baked) == {"en-core-web-sm"}
    assert all(installed.pop(name) == version for name, version in baked.items())
    assert installed == {normalise(n): v for n, v in lock.items()}


@pytest.mark.variant
def test_the_manifest_covers_the_venv_the_assets_and_usr_local(manifest, host):
    roots = ("/opt/venv", "/opt/assets", "/usr/local")
    assert all(p.startswith(roots) for p in manifest)
    assert all(sum(p.startswith(r + "/") for p in manifest) > 5 for r in roots)
    for path in (
        "/opt/assets/index.json",
        "/opt/venv/bin/dl-versions",
        "/opt/venv/bin/python3",
        "/usr/local/share/deeplearning/constraints.txt",
    ):
        assert path in manifest, path
    index = manifest["/opt/assets/index.json"]
    assert index[2] == host.check_output("sha256sum /opt/assets/index.json").split()[0]
    assert manifest["/opt/venv/bin/python3"][2] == "-> /usr/bin/python3"
    assert index[0] == "100644" and index[1] == "0:0"


@pytest.mark.variant
def test_pyc_files_hold_no_time_and_are_not_rechecked(host):
    """Python 3.11's .pyc header: flags 0b01 is a hash-based, unchecked .pyc (PEP 552)."""
    out = host.check_output(
        "python -c %s",
        """
import collections, glob, json
flags = collections.Counter()
for f in glob.glob("/opt/venv/lib/python3.11/site-packages/**/*.pyc", recursive=True):
    with open(f, "rb") as fh:
        flags[int.from_bytes(fh.read(8)[4:8], "little")] += 1
print(json.dumps(flags))""",
    )
    flags = {int(k): v for k, v in json.loads(out).items()}
    assert set(flags) == {1} and flags[1] > 10000, flags


@pytest.mark.variant
def test_every_file_of_the_venv_and_assets_has_the_locks_time(host):
    """Beside what docker/rootfs/opt adds to the venv (JupyterLab's settings), by a COPY."""
    ours = " -o ".join(f"-path /opt/venv/{p.relative_to(ROOTFS_VENV)}" for p in sorted(ROOTFS_VENV.rglob("*")))
    newer = host.check_output(
        f"find /opt/venv /opt/assets -mindepth 1 -newermt {LOCKED_AT} ! \\( {ours} \\) | head -n 5"
    )
    older = host.check_output(f"find /opt/venv /opt/assets -mindepth 1 ! -newermt {LOCKED_AT} | wc -l")
    assert newer == "" and int(older) > 40000


# A user following an older tutorial: pip against PyPI (through the proxy's CA when there is one).
def pip(*args, env=()):
    ca = os.environ.get("CA_BUNDLE")
    mounts = ["-v", f"{ca}:/tmp/ca.pem:ro", "-e", "PIP_CERT=/tmp/ca.pem"] if ca else []
    script = (
        'pip freeze --all > /tmp/before; pip "$@"; rc=$?; pip freeze --all > /tmp/after; '
        "diff /tmp/before /tmp/after | sed -n 's/^[<>]/freeze: &/p'; exit $rc"
    )
    return run(*mounts, *[a for e in env for a in ("-e", e)], command=["bash", "-c", script, "pip", *args])


@pytest.mark.habits
def test_pip_cannot_replace_a_locked_package_and_changes_nothing(lock):
    p = pip("install", "--disable-pip-version-check", "numpy<2")
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"The user requested (constraint) numpy=={lock['numpy']}" in p.stdout + p.stderr
    assert "The user requested numpy<2" in p.stdout + p.stderr
    # pip freeze is the same before and after
    assert "freeze: " not in p.stdout, p.stdout


@pytest.mark.habits
def test_a_new_package_that_fits_the_lock_installs():
    p = pip("install", "--disable-pip-version-check", "tabulate")
    assert p.returncode == 0, p.stderr
    assert re.findall(r"^freeze: .*$", p.stdout, re.M) == [re.search(r"^freeze: > tabulate==\S+$", p.stdout, re.M)[0]]


@pytest.mark.habits
def test_the_constraint_is_switched_off_for_one_command(lock):
    p = pip("install", "--disable-pip-version-check", "--dry-run", "numpy<2", env=["PIP_CONSTRAINT="])
    assert p.returncode == 0, p.stderr
    assert re.search(r"Would install numpy-1\.\S+", p.stdout), p.stdout
