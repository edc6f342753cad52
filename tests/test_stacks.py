"""jupyter/docker-stacks' habits work: their entry points and settings, and any uid started with
gid 100 (docker-stacks) or gid 0 (OpenShift, Kubeflow) writes home, work, models and the venv."""

import secrets

import pytest
from support.containers import WORKDIR, http_get, payload, run, running, wait_for


def test_the_entry_points_are_docker_stacks_ones(image):
    assert image["Config"]["Cmd"] == ["start-notebook.py"]
    p = run(
        command=[
            "bash",
            "-c",
            "command -v start-notebook.py start-notebook.sh start-singleuser.py "
            "start-singleuser.sh jupyterhub-singleuser | xargs -n1 basename",
        ]
    )
    assert p.stdout.split() == [
        "start-notebook.py",
        "start-notebook.sh",
        "start-singleuser.py",
        "start-singleuser.sh",
        "jupyterhub-singleuser",
    ]


@pytest.mark.parametrize("cmd, page", [("server", "/api/status"), ("notebook", "/tree")])
def test_docker_stacks_jupyter_cmd_picks_the_server(cmd, page):
    token = secrets.token_hex(8)
    with running(
        "-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}", "-e", f"DOCKER_STACKS_JUPYTER_CMD={cmd}"
    ) as c:
        c.wait_healthy(timeout=90)
        assert http_get(c.url(8888, page), token)[0] == 200
        assert f"/opt/venv/bin/jupyter-{cmd}" in c.exec("ps", "-eo", "args").stdout.split()


def test_nb_user_renames_the_user_when_started_as_root():
    p = run(
        "--user",
        "root",
        "-e",
        "NB_USER=alice",
        "--network",
        "none",
        command=["bash", "-c", "id -un; echo $HOME; pwd; echo $DL_WORKDIR; touch ~/mine && ls examples/retrain.py"],
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["alice", "/home/alice", "/home/alice/work", "/home/alice/work", "examples/retrain.py"]


def test_nb_user_without_root_is_one_line_and_runs():
    p = run("-e", "NB_USER=alice", command=["id", "-un"])
    assert p.returncode == 0 and p.stdout.strip() == "jovyan"
    assert (
        p.stderr.strip()
        == "start.sh: NB_USER=alice needs the container started as root (--user root); running as jovyan"
    )


def test_chown_home_gives_a_root_owned_home_volume_to_the_user(tmp_path):
    home = tmp_path / "home"
    home.mkdir()  # root's, as a fresh volume is
    p = run(
        "--user",
        "root",
        "-e",
        "NB_UID=4321",
        "-e",
        "CHOWN_HOME=yes",
        "-v",
        f"{home}:/home/jovyan",
        "--network",
        "none",
        command=["bash", "-c", "touch ~/mine && ls ~/work/retrain.sh"],
    )
    assert p.returncode == 0, p.stderr
    assert (home / "mine").stat().st_uid == 4321 and home.stat().st_uid == 4321
    assert (home / "work" / "examples" / "retrain.py").is_file()


@pytest.mark.parametrize("grant, expect", [("yes", "0"), ("no", "denied")])
def test_grant_sudo_only_when_asked(grant, expect):
    p = run(
        "--user",
        "root",
        "-e",
        f"GRANT_SUDO={grant}",
        "--network",
        "none",
        command=["bash", "-c", "sudo -n id -u 2>/dev/null || echo denied"],
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[-1] == expect


def answers(url, token, method="GET"):
    """True when the server answers 200; False when it does not, or the connection drops."""
    try:
        return http_get(url, token, method=method)[0] == 200
    except OSError:
        return False


def test_restartable_starts_the_server_again_after_a_shutdown():
    token = secrets.token_hex(8)
    with running("-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}", "-e", "RESTARTABLE=yes") as c:
        c.wait_healthy(timeout=90)
        answers(c.url(8888, "/api/shutdown"), token, method="POST")  # the server may go before it answers
        wait_for(lambda: "starting it again" in c.logs(), 60, what="the restart")
        wait_for(lambda: answers(c.url(8888, "/api/status"), token), 90, what="the server again")
        assert c.inspect()["State"]["Running"]


@pytest.mark.parametrize("gid", [0, 100])
def test_an_arbitrary_uid_with_gid_0_or_100_writes_home_work_models_and_the_venv(gid):
    token = secrets.token_hex(8)
    with running("-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}", "--user", f"12345:{gid}") as c:
        c.wait_healthy(timeout=90)
        assert c.exec("python", "-c", payload("make_wheel.py")).returncode == 0
        script = (
            "set -e; touch ~/in-home models/in-models examples/in-examples; "
            "echo ' ' >> examples/00_deep_learning_in_5_steps.ipynb; "
            "pip install -q --no-index /tmp/mine-1.0-py3-none-any.whl; "
            "cd /tmp && python -c 'import mine; print(mine.ANSWER)'; cd - >/dev/null; echo $HOME"
        )
        p = c.exec("bash", "-c", script)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == ["42", "/home/jovyan"]
        # JupyterLab saves and checkpoints (both failed as 403/500 before the permission rule).
        url = c.url(8888, "/api/contents/examples/saved.ipynb")
        nb = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}
        assert http_get(url, token, method="PUT", body=nb)[0] in (200, 201)
        assert http_get(url + "/checkpoints", token, method="POST", body={})[0] == 201
        retrain = c.exec("./retrain.sh", "--how_many_training_steps", "20")
        assert retrain.returncode == 0, retrain.stderr
        owners = c.exec("stat", "-c", "%u:%g", "models/retrained/model.keras").stdout.strip()
        assert owners.split(":")[0] == "12345"


def test_fix_permissions_gives_gid_0_the_same_rights_as_group_100(host):
    out = host.check_output("getfacl -p /opt/venv/lib/python3.11/site-packages %s/examples", WORKDIR)
    for block in out.split("\n\n"):
        assert "group::rwx" in block and "group:root:rwx" in block and "default:group:root:rwx" in block, block
        assert "# group: users" in block and "flags: -s-" in block, block
