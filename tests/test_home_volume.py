"""A persistent home volume mounted over /home/jovyan (JupyterHub's, Zero-to-JupyterHub's default):
empty and group-writable on first start, as Kubernetes' fsGroup leaves it. The teaching material
must be there and writable, the standard calls must work, and the user's edits must survive."""

import os
import secrets

import pytest
from support.containers import WORKDIR, http_get, running


@pytest.fixture()
def home(tmp_path):
    """An empty folder as a fresh volume is: root's, group users (100), group-writable, setgid."""
    h = tmp_path / "home"
    h.mkdir()
    os.chown(h, 0, 100)
    h.chmod(0o2775)
    return h


def lab_on(home, token, *more):
    return running(
        "-p",
        "127.0.0.1::8888",
        "-e",
        f"JUPYTER_TOKEN={token}",
        "--network",
        "bridge",
        "-v",
        f"{home}:/home/jovyan",
        *more,
    )


def test_a_fresh_home_volume_gets_the_teaching_material_and_keeps_the_user_s_edits(home):
    token = secrets.token_hex(8)
    with lab_on(home, token) as c:
        c.wait_healthy(timeout=90)
        status, body = http_get(c.url(8888, "/api/contents"), token)
        assert status == 200
        assert {"examples", "data", "models", "retrain.sh"} <= {i["name"] for i in json_of(body)["content"]}
        nb = json_of(http_get(c.url(8888, "/api/contents/examples/02_word_algebra.ipynb"), token)[1])
        nb["content"]["cells"][0]["source"] = "# my notes"
        assert (
            http_get(
                c.url(8888, "/api/contents/examples/02_word_algebra.ipynb"),
                token,
                method="PUT",
                body={"type": "notebook", "content": nb["content"]},
            )[0]
            == 200
        )
        p = c.exec(
            "bash",
            "-c",
            "./retrain.sh --how_many_training_steps 20 | tail -n 1 && "
            "python -c \"import spacy, gensim.downloader as api; spacy.load('en_core_web_sm'); "
            "print(api.load('glove-wiki-gigaword-50').most_similar(positive=['king', 'woman'], negative=['man'], topn=1)[0][0])\"",
        )
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip().splitlines()[-1] == "queen"
    work = home / "work"
    assert (work / "models" / "retrained" / "model.keras").is_file()
    assert work.stat().st_uid == 1000  # made anew by the user, not the runtime's root-owned folder
    # The same volume again: the user's edit stays, nothing is copied over it.
    with lab_on(home, token) as c:
        c.wait_healthy(timeout=90)
        nb = json_of(http_get(c.url(8888, "/api/contents/examples/02_word_algebra.ipynb"), token)[1])
        assert nb["content"]["cells"][0]["source"] == "# my notes"


def json_of(body):
    import json

    return json.loads(body)


def test_the_work_path_the_examples_use_is_the_volume_s(home):
    with running("-v", f"{home}:/home/jovyan", "--network", "none", command=["sleep", "infinity"]) as c:
        p = c.exec("bash", "-c", "pwd; python -c 'import dlkit; print(dlkit.WORKDIR)'; ls -d examples")
        assert p.returncode == 0, p.stderr
        # docker exec starts in the image's WORKDIR: the folder start.sh made, not the runtime's
        assert p.stdout.split() == [WORKDIR, WORKDIR, "examples"]
