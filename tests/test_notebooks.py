"""Every notebook runs top to bottom through a real Jupyter kernel in the image, offline."""
import json

import pytest

from conftest import REPO, running

NOTEBOOKS = sorted(p.name for p in (REPO / "examples" / "notebooks").glob("*.ipynb"))
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

RUN = """
import json, sys, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": "notebooks"}})
try:
    client.execute()
    error = None
except CellExecutionError as e:
    error = str(e).strip().splitlines()[-1]
outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
print(json.dumps({"error": error, "errors": sum(o.output_type == "error" for o in outputs),
                  "text": json.dumps(outputs)}))
"""


@pytest.fixture(scope="module")
def box():
    with running("--network", "none", command=["sleep", "infinity"]) as c:
        yield c


def test_every_notebook_has_an_expectation():
    assert NOTEBOOKS and set(NOTEBOOKS) == set(EXPECT)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_without_errors(box, notebook):
    p = box.exec("python", "-c", RUN, f"notebooks/{notebook}", timeout=1800)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout.strip().splitlines()[-1])
    assert result["error"] is None and result["errors"] == 0, result["error"]
    assert EXPECT[notebook] in result["text"]
