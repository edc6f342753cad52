"""Every notebook runs top to bottom through JupyterLab's own server, as a browser runs it, in a
locked-down container: no network, read-only root filesystem, no Linux capabilities."""

import json

import pytest
from support.containers import LOCKED, running
from support.jupyter_load import CLIENT, NOTEBOOKS

# Something each notebook must have printed or shown, beyond running without error.
EXPECT = {
    "00_deep_learning_in_5_steps.ipynb": "final loss",
    "01_transfer_learning.ipynb": "Final test accuracy",
    "02_word_algebra.ipynb": "rome - italy + france -> [('paris'",
    "03_spacy_nlp.ipynb": "('Apple', 'ORG')",
    "04_faces.ipynb": "image/png",
    "05_tuning.ipynb": "hyperopt",
    "06_learning_curves.ipynb": "image/png",
}


@pytest.fixture(scope="module")
def locked_lab(token):
    with running(*LOCKED, "-e", f"JUPYTER_TOKEN={token}") as c:
        c.wait_healthy(timeout=90)
        yield c


def test_every_notebook_has_an_expectation():
    assert NOTEBOOKS and set(NOTEBOOKS) == set(EXPECT)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_through_jupyter_without_errors(locked_lab, token, notebook):
    p = locked_lab.exec("python", "-c", CLIENT, token, f"examples/{notebook}", timeout=1800)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout.strip().splitlines()[-1])
    assert result["error"] is None and result["errors"] == 0, result["error"]
    assert EXPECT[notebook] in result["text"]


def test_the_server_logged_no_error(locked_lab):
    errors = [line for line in locked_lab.logs().splitlines() if line.startswith(("[E ", "[C "))]
    assert errors == []
