"""The teaching material stays readable: each example is one file an attendee reads top to bottom,
the notebooks set nothing up by hand, and the machinery lives in the image's library (dlkit)."""

import ast
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

EXAMPLES = sorted((REPO / "examples").glob("*.py"))
NOTEBOOKS = sorted((REPO / "examples").glob("*.ipynb"))
LIBRARY = sorted((REPO / "src" / "dlkit").rglob("*.py"))


def imported_modules(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_there_is_something_to_check():
    assert len(EXAMPLES) >= 7 and len(NOTEBOOKS) >= 7 and len(LIBRARY) >= 8


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_is_one_short_file_with_a_docstring(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 200
    assert ast.get_docstring(ast.parse(text)), "a docstring first: what it shows"
    assert "sys.path" not in text and "os.chdir" not in text
    # Examples import the library, never each other.
    assert not imported_modules(path) & {p.stem for p in EXAMPLES}


def test_retrain_shows_the_lesson_and_trains_with_keras_fit():
    text = (REPO / "examples" / "retrain.py").read_text()
    assert len(text.splitlines()) <= 180
    steps = ("dataset.scan(", "BottleneckCache(", "dataset.split(", "keras.layers.Dense(", "Softmax(")
    for step in steps + ("head.compile(", "steps_per_execution=", "head.fit(", "save_atomically("):
        assert step in text, step
    assert "--simple" not in text and "session.train(" not in text  # one training path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_has_no_set_up_cell(path):
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    assert not any("sys.path" in s or "os.chdir" in s or "from common" in s for s in sources)


def test_notebook_01_runs_transfer_learning_step_by_step():
    cells = json.loads((REPO / "examples" / "01_transfer_learning.ipynb").read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "retrain.main" not in code
    steps = ("load_backbone(", "bottlenecks.compute(", "dataset.split(", "keras.layers.Dense(", ".fit(")
    for step in steps + ("Final test accuracy", "model.save("):
        assert step in code, step


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(REPO / "src")))
def test_a_library_module_owns_one_concern(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 300
    assert ast.get_docstring(ast.parse(text))
    assert "sys.path" not in text
    assert not imported_modules(path) & {p.stem for p in EXAMPLES}, "the library never imports an example"
