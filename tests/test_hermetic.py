"""The examples in a locked-down container: no network, read-only root filesystem, no Linux
capabilities; only /tmp and models/ writable (tmpfs), as on a hostile or air-gapped workshop."""

import re

import pytest
from support.containers import LOCKED, payload, run


@pytest.fixture(scope="module")
def locked_run():
    p = run(*LOCKED, command=["bash", "-c", payload("hermetic.sh")], timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "Traceback" not in p.stderr
    return p.stdout


def test_retrain_and_evaluate(locked_run):
    lines = locked_run.splitlines()
    assert re.fullmatch(r"Final test accuracy = \d+\.\d% \(N=\d+\)", lines[0])
    assert int(lines[1]) >= 200  # one top-1 line per image of the embedded dataset


def test_word_algebra(locked_run):
    assert re.search(r"^queen 0\.8\d\d$", locked_run, re.M)


def test_spacy(locked_run):
    assert "Apple (ORG)" in locked_run and "$1 billion (MONEY)" in locked_run


def test_faces(locked_run):
    assert "1 face found" in locked_run


def test_tuning_and_learning_curves(locked_run):
    assert re.search(r"^3$", locked_run, re.M)  # grid, random, hyperopt
    assert "plot: models/learning_curves_demo.png" in locked_run


def test_assets_verify_read_only(locked_run):
    assert locked_run.rstrip().splitlines()[-1] == "0"  # no asset line other than "ok"
