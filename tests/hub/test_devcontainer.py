"""VS Code / Codespaces: .devcontainer/devcontainer.json opens a folder in the image, tested with the
Dev Containers CLI (npm @devcontainers/cli, pinned in tests/hub/package-lock.json) run by a host user
who is not the image's uid: `devcontainer up`, then `devcontainer exec` runs an example, writes into
the workspace a file that belongs to the host user, and installs into the venv."""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from support.containers import REPO, docker

HERE = Path(__file__).resolve().parent
HOST_USER, HOST_UID = "dlhost", 4321


@pytest.fixture(scope="module")
def cli():
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.fail("node and npm are needed (Debian: apt-get install nodejs npm; the CLI needs Node.js >= 20)")
    if not (HERE / "node_modules" / ".bin" / "devcontainer").exists():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=HERE,
            check=True,
            capture_output=True,
            env={**os.environ, "NODE_EXTRA_CA_CERTS": os.environ.get("CA_BUNDLE", "")},
        )
    return str(HERE / "node_modules" / ".bin" / "devcontainer")


@pytest.fixture(scope="module")
def host_user():
    """A host user who is not uid 1000: ourselves, or (as root, in CI) a user made for the test."""
    if os.getuid() != 0:
        return []
    try:
        pwd.getpwnam(HOST_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--create-home", "--uid", str(HOST_UID), "--groups", "docker", HOST_USER], check=True
        )
    return ["runuser", "-u", HOST_USER, "--"]


@pytest.fixture(scope="module")
def workspace(cli, host_user):
    ws = Path(tempfile.mkdtemp(prefix="dlproject-"))  # not under pytest's root-only folder
    shutil.copytree(REPO / ".devcontainer", ws / ".devcontainer")
    (ws / "notes.md").write_text("my project\n")
    uid = HOST_UID if host_user else os.getuid()
    for p in [ws, *ws.rglob("*")]:
        os.chown(p, uid, uid if host_user else os.getgid())
    up = subprocess.run(
        host_user + [cli, "up", "--workspace-folder", str(ws)], capture_output=True, text=True, timeout=600
    )
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    result = json.loads(up.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "success", result
    yield {"path": ws, "uid": uid, "container": result["containerId"], "cmd": host_user + [cli]}
    image = docker("inspect", "-f", "{{.Config.Image}}", result["containerId"], check=False).stdout.strip()
    docker("rm", "-f", result["containerId"], check=False)
    if image.startswith("vsc-"):
        docker("rmi", image, check=False)
    shutil.rmtree(ws, ignore_errors=True)


def exec_in(ws, script):
    return subprocess.run(
        ws["cmd"] + ["exec", "--workspace-folder", str(ws["path"]), "bash", "-lc", script],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_an_example_runs_and_writes_a_file_the_host_user_owns(workspace):
    p = exec_in(
        workspace,
        'id -u; pwd; cd ~/work && ./word_algebra.sh "king - man + woman" --topn 1 '
        "> /home/jovyan/work/project/answer.txt",
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.split()[:2] == [str(workspace["uid"]), "/home/jovyan/work/project"]
    answer = workspace["path"] / "answer.txt"
    assert answer.read_text().split()[0] == "queen"
    assert answer.stat().st_uid == workspace["uid"]


def test_the_venv_takes_installs_and_the_image_s_python_is_the_default(workspace):
    p = exec_in(
        workspace,
        "touch /opt/venv/lib/python3.11/site-packages/probe && rm /opt/venv/lib/python3.11/site-packages/probe "
        '&& command -v python && python -c \'import tensorflow, spacy; spacy.load("en_core_web_sm"); print("ok")\'',
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.split()[-2:] == ["/opt/venv/bin/python", "ok"]


def test_the_configuration_names_the_editor_s_extensions():
    config = json.loads((REPO / ".devcontainer" / "devcontainer.json").read_text())
    assert {"ms-python.python", "ms-toolsai.jupyter"} <= set(config["customizations"]["vscode"]["extensions"])
    assert config["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"] == "/opt/venv/bin/python"
    assert config["updateRemoteUserUID"] is True and config["remoteUser"] == "jovyan"
