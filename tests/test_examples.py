"""The talk's other examples, run as users run them, offline: word algebra, spaCy, faces, tuning,
learning curves. Concrete answers, and one-line errors for bad input."""

import json
import re

import pytest
from support.containers import offline_box, one_line_error


@pytest.fixture(scope="module")
def box():
    with offline_box() as c:
        yield c


def ok(p):
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    return p.stdout


@pytest.mark.parametrize(
    "expression, top",
    [("rome - italy + france", "paris"), ("king - man + woman", "queen"), ("Rome - Italy + France", "paris")],
)
def test_word_algebra_finds_the_analogy(box, expression, top):
    lines = ok(box.exec("./word_algebra.sh", expression)).splitlines()
    assert len(lines) == 5
    word, score = lines[0].split()
    assert word == top and 0.8 < float(score) < 0.9
    assert all(re.fullmatch(r"\S+ 0\.\d{3}", line) for line in lines)


def test_word_algebra_excludes_the_question_words(box):
    words = [
        line.split()[0]
        for line in ok(box.exec("./word_algebra.sh", "rome - italy + france", "--topn", "10")).splitlines()
    ]
    assert not {"rome", "italy", "france"} & set(words)


def test_word_algebra_unknown_word_is_named_with_suggestions(box):
    line = one_line_error(box.exec("./word_algebra.sh", "rome - itlay + france"), "word_algebra")
    assert "unknown word 'itlay'" in line and "italy" in line.split("did you mean", 1)[1]


@pytest.mark.workshop
def test_word_algebra_keeps_a_hyphenated_word_of_the_vocabulary_whole(box):
    # GloVe knows "well-known": it is one word, and only a stand-alone "-" subtracts.
    direct = (
        "import word_algebra as w; kv = w.load_vectors(); assert 'well-known' in kv.key_to_index; "
        "print(' '.join(x for x, _ in kv.most_similar(positive=['well-known', 'city'], negative=['famous'], topn=3)))"
    )
    expected = ok(box.exec("bash", "-c", f'cd examples && python -c "{direct}"')).split()
    lines = ok(box.exec("./word_algebra.sh", "well-known - famous + city", "--topn", "3")).splitlines()
    assert [line.split()[0] for line in lines] == expected


def test_word_algebra_evaluate_reports_sections(box):
    out = ok(box.exec("./word_algebra.sh", "--evaluate", "--restrict_vocab", "10000", timeout=600))
    sections = dict(re.findall(r"^(\S+)\s+([\d.]+)%", out, re.M))
    assert len(sections) == 15  # 14 sections of questions-words.txt, and the overall figure
    assert float(sections["capital-common-countries"]) > 50 and float(sections["overall"]) > 40


def test_spacy_finds_apple_as_an_organisation(box):
    out = ok(
        box.exec(
            "./spacy_nlp.sh",
            "Apple is looking at buying U.K. startup for $1 billion",
            "--output",
            "/tmp/spacy/apple.html",
        )
    )
    entities = re.search(r"^entities:\s+(.*)$", out, re.M).group(1)
    assert "Apple (ORG)" in entities and "U.K. (GPE)" in entities and "$1 billion (MONEY)" in entities
    assert re.search(r"^looking\s+look\s+VERB", out, re.M)
    assert "has no word vectors" in out
    assert box.exec("grep", "-c", "<svg", "/tmp/spacy/apple.svg").stdout.strip() == "1"
    assert box.exec("grep", "-c", "ORG", "/tmp/spacy/apple.html").returncode == 0


def test_spacy_reads_standard_input(box):
    out = ok(box.exec("bash", "-c", "echo 'Paris is in France.' | ./spacy_nlp.sh --output /tmp/spacy/stdin.html"))
    assert "Paris (GPE)" in out


def test_spacy_empty_text_is_one_line(box):
    assert (
        one_line_error(box.exec("./spacy_nlp.sh", "   "), "spacy_nlp")
        == "spacy_nlp: error: the text is empty: nothing to analyse"
    )


def test_faces_finds_exactly_one_face_on_the_astronaut(box):
    out = ok(box.exec("./faces.sh", "--sample", "astronaut", "--output", "/tmp/faces/astronaut.png"))
    lines = out.splitlines()
    assert lines[0] == "1 face found"
    x, y, w, h = map(int, lines[1].split())
    assert 150 < x < 250 and 50 < y < 150 and 60 < w < 140  # Eileen Collins' face, upper middle
    assert box.host.file("/tmp/faces/astronaut.png").content.startswith(b"\x89PNG")


@pytest.mark.workshop
def test_faces_finds_a_face_in_a_400_megapixel_jpeg_in_the_file_s_pixels(box):
    """The astronaut enlarged to 20000x20000 (x39): decoded at 1/8 scale, --min_size and the box in
    the file's own pixels."""
    sample = ok(box.exec("./faces.sh", "--sample", "astronaut", "--output", "/tmp/faces/astronaut.png"))
    x0, y0, w0, _ = map(int, sample.splitlines()[1].split())
    make = (
        "from PIL import Image; from skimage import data; "
        "Image.fromarray(data.astronaut()).resize((20000, 20000)).save('/tmp/huge.jpg')"
    )
    assert box.exec("python", "-c", make, timeout=300).returncode == 0
    out = ok(box.exec("./faces.sh", "/tmp/huge.jpg", "--min_size", "1500", "--output", "/tmp/faces/huge.png"))
    lines, f = out.splitlines(), 20000 / 512
    assert lines[0] == "1 face found"
    x, y, w, _ = map(int, lines[1].split())
    assert abs(x - f * x0) < 0.1 * f * w0 and abs(y - f * y0) < 0.1 * f * w0 and abs(w - f * w0) < 0.1 * f * w0


def test_faces_rejects_a_file_that_is_not_an_image(box):
    box.exec("bash", "-c", "echo hello > /tmp/hello.jpg")
    assert (
        one_line_error(box.exec("./faces.sh", "/tmp/hello.jpg"), "faces")
        == "faces: error: /tmp/hello.jpg: not an image"
    )


def test_tuning_is_reproducible_with_a_seed(box):
    runs = [
        json.loads(ok(box.exec("./tune.sh", "--json", "--seed", "3", "--n_iter", "5", timeout=900))) for _ in range(2)
    ]
    assert [r["method"] for r in runs[0]] == ["grid", "random", "hyperopt"]
    best = [[(r["method"], r["eta0"], r["alpha"], r["cv_accuracy"]) for r in run] for run in runs]
    assert best[0] == best[1]
    assert all(r["test_accuracy"] > 0.8 for r in runs[0])


def test_tuning_prints_a_comparison_table(box):
    out = ok(box.exec("./tune.sh", "--n_iter", "3", timeout=900))
    assert re.search(r"^method\s+eta0\s+alpha\s+CV acc\s+test acc", out, re.M)
    assert {line.split()[0] for line in out.splitlines()[2:]} == {"grid", "random", "hyperopt"}


def test_learning_curves_show_overfitting(box):
    out = ok(box.exec("./learning_curves.sh", "--epochs", "80", "--output", "/tmp/curves.png", timeout=600))
    plain = re.search(
        r"^plain\s+lowest validation loss ([\d.]+) at epoch (\d+); at the end: training loss ([\d.]+), "
        r"validation loss ([\d.]+)",
        out,
        re.M,
    )
    lowest, epoch, train_end, val_end = float(plain[1]), int(plain[2]), float(plain[3]), float(plain[4])
    assert epoch < 80 and val_end > lowest and train_end < lowest  # validation turned back up
    assert box.host.file("/tmp/curves.png").content.startswith(b"\x89PNG")


@pytest.mark.parametrize("collector", ["on", "off"])
def test_import_keras_pauses_the_collector_only_for_the_import(box, collector):
    """dlkit.assets.import_keras pauses Python's cycle collector while TensorFlow and Keras load (the
    examples start 0.7 s sooner): afterwards it collects again, with the import's objects set
    aside (frozen); a collector the caller had turned off stays off, and nothing is frozen."""
    script = (
        "import gc, sys; from dlkit.assets import import_keras\n"
        "if sys.argv[1] == 'off': gc.disable()\n"
        "import_keras(); print(gc.isenabled(), gc.get_freeze_count())"
    )
    enabled, frozen = ok(box.exec("python", "-c", script, collector, timeout=120)).split()
    if collector == "on":
        assert enabled == "True" and int(frozen) > 100_000
    else:
        assert enabled == "False" and int(frozen) == 0


@pytest.mark.parametrize("lean", [False, True])
def test_a_lean_import_keras_leaves_out_only_the_integrations(box, lean):
    """import_keras(lean=True), retrain's: scikit-learn, pandas and matplotlib stay out of Keras's
    import (a third of it) and import as usual afterwards; only Keras's scikit-learn wrappers are
    off in that process. The default is the whole of Keras: its wrappers train."""
    script = (
        "import sys; from dlkit.assets import import_keras\n"
        "keras = import_keras(lean=sys.argv[1] == 'True')\n"
        "print(*sorted(m for m in ('sklearn', 'pandas', 'matplotlib') if m in sys.modules), sep=',')\n"
        "import numpy, pandas, sklearn.base, matplotlib.pyplot\n"
        "def model(X, y):\n"
        "    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation='softmax')])\n"
        "    m.compile('sgd', 'categorical_crossentropy'); return m\n"
        "x, y = pandas.DataFrame({'a': [0.0, 1.0, 0.0, 1.0], 'b': 1.0}), numpy.array([0, 1, 0, 1])\n"
        "model(x, y).fit(x, numpy.eye(2)[y], verbose=0); print('DataFrame fitted')\n"
        "try: keras.wrappers.SKLearnClassifier(model, fit_kwargs={'verbose': 0}).fit(x, y)\n"
        "except ImportError as e: print('wrapper refused:', e)\n"
        "else: print('wrapper fitted')"
    )
    imported, frame, wrapper = ok(box.exec("python", "-c", script, str(lean), timeout=120)).splitlines()
    assert frame == "DataFrame fitted"
    if lean:
        assert imported == "" and wrapper.startswith("wrapper refused: SKLearnClassifier requires `scikit-learn`")
    else:
        assert imported == "matplotlib,pandas,sklearn" and wrapper == "wrapper fitted"
