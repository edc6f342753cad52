"""The calls every tutorial types work offline, in the image as built (--network none):
spacy.load("en_core_web_sm"), gensim.downloader.load("glove-wiki-gigaword-50"), Keras's
weights="imagenet" (answered from the baked files by their upstream names, or refused with a line
that names the asset profile), plot_model, seaborn, login shells, a workshop's command-line tools."""

import json

import pytest
from support.containers import offline_box, payload

pytestmark = pytest.mark.habits


@pytest.fixture(scope="module")
def box():
    with offline_box() as c:
        yield c


def python(c, code, *args):
    return c.exec("python", "-c", code, *args, timeout=300)


def test_spacy_load_by_name_and_spacy_info(box, assets):
    p = python(
        box,
        "import spacy; nlp = spacy.load('en_core_web_sm'); "
        "print([(e.text, e.label_) for e in nlp('Apple is buying U.K. startup for $1 billion').ents])",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[('Apple', 'ORG'), ('U.K.', 'GPE'), ('$1 billion', 'MONEY')]"
    info = box.exec("python", "-m", "spacy", "info")
    assert info.returncode == 0 and "Traceback" not in info.stderr, info.stderr
    assert "en_core_web_sm (3.8.0)" in info.stdout
    # What the package is and where it comes from, in its own metadata (the stand-in says so).
    summary = python(box, "import importlib.metadata as m; print(m.metadata('en_core_web_sm')['Summary'])").stdout
    source = assets["assets"][assets["defaults"]["spacy"]]
    if assets["profile"] == "standin":
        assert source["pypi"] in summary and source["sha256"] in summary and "re-upload" in summary


def test_gensim_downloader_answers_from_the_baked_vectors(box):
    p = python(
        box,
        "import gensim.downloader as api; kv = api.load('glove-wiki-gigaword-50'); "
        "print(len(kv), kv.vector_size, kv.most_similar(positive=['king', 'woman'], negative=['man'], topn=1)[0][0])",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["400000", "50", "queen"]
    assert p.stderr == ""
    info = json.loads(box.exec("cat", "/home/jovyan/gensim-data/information.json").stdout)
    assert info["models"]["glove-wiki-gigaword-50"]["num_records"] == 400000


def test_keras_imagenet_weights_are_refused_with_the_profile_in_a_stand_in_image(box, assets):
    if any("keras" in a for a in assets["assets"].values()):
        pytest.skip("this image bakes in Keras weights (upstream profile): tested by the next test's mechanism")
    """IPython and Jupyter's kernels load the note (an IPython extension, /etc/ipython)."""
    code = "import keras; keras.applications.EfficientNetB0(weights='imagenet', include_top=False)"
    p = box.exec("ipython", "--colors=NoColor", "-c", code, timeout=300)
    assert p.returncode == 1
    last = p.stdout.strip().splitlines()[-1]  # IPython prints the traceback on stdout
    assert last.startswith("rucka/deeplearning: this image's asset profile is 'standin'")
    assert "no Keras weights" in last


def test_the_keras_note_still_finds_keras_s_downloader(box):
    """dlkit.keras_note reaches into a Keras internal (keras.src.utils.file_utils.get_file, which
    keras.applications call; no public hook exists): in either asset profile, a Keras upgrade that
    moves it fails here, instead of the note going silent. Asked of a Jupyter kernel, as a notebook."""
    code = (
        "import keras\nfrom keras.src.utils import file_utils\n"
        "print(hasattr(file_utils.get_file, '__wrapped__'), keras.utils.get_file is file_utils.get_file)"
    )
    p = python(box, payload("kernel_run.py"), code)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["True", "True"]


def test_an_asset_with_keras_s_file_name_answers_weights_imagenet_offline(box):
    """The upstream profile's mechanism: a manifest entry with `keras = "models/FILE"`, fetched and
    verified by dl-assets, linked by dl-assets link; Keras's own call then loads it offline."""
    made = python(box, payload("keras_weights.py"), "top")
    assert made.returncode == 0, made.stderr
    p = box.exec(
        "dl-assets",
        "--manifest",
        "/tmp/mobilenet_v2_top.toml",
        "fetch",
        "--profile",
        "test",
        "--mirror",
        "/tmp/mirror",
        "--mirror-only",
    )
    assert p.returncode == 0, p.stderr
    assert box.exec("dl-assets", "link").returncode == 0
    loaded = python(box, payload("keras_weights.py"), "imagenet")
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout.splitlines()[-1]) == json.loads(made.stdout.splitlines()[-1])


def test_plot_model_draws_a_png_with_graphviz(box):
    p = python(
        box,
        "import keras; m = keras.Sequential([keras.Input((4,), name='x'), keras.layers.Dense(2, name='d')]); "
        "keras.utils.plot_model(m, to_file='/tmp/model.png', show_shapes=True); "
        "print(open('/tmp/model.png', 'rb').read(8) == b'\\x89PNG\\r\\n\\x1a\\n')",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[-1] == "True"


def test_seaborn_draws_a_heatmap(box):
    p = python(
        box,
        "import numpy as np, seaborn as sns; ax = sns.heatmap(np.eye(3), annot=True); "
        "ax.figure.savefig('/tmp/heat.png'); print(len(ax.texts))",
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[-1] == "9"


def test_a_login_shell_gets_the_image_s_python(box):
    p = box.exec("bash", "-lc", "command -v python python3; python -c 'import tensorflow, sys; print(sys.prefix)'")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["/opt/venv/bin/python", "/opt/venv/bin/python3", "/opt/venv"]


@pytest.mark.parametrize(
    "tool",
    [
        "git --version",
        "curl --version",
        "unzip -v",
        "zip -v",
        "nano --version",
        "less --version",
        "ps --version",
        "htop --version",
        "dot -V",
    ],
)
def test_a_workshop_s_command_line_tools(box, tool):
    p = box.exec("bash", "-c", tool)
    assert p.returncode == 0, p.stderr


def test_dl_versions_names_the_profile_and_each_asset_s_source(box, assets):
    table = box.exec("dl-versions").stdout
    profile = assets["profile"]
    assert f"asset profile            {profile} (" in table
    for name, a in assets["assets"].items():
        assert f"  {name:22s} {a['provides']:9s} {a['source']}" in table
