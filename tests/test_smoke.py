"""The smoke subset: the image's main paths in one offline container, so that a platform run under
emulation (linux/arm64 on x86-64, `make test-arm64`) pays TensorFlow's start-up a few times only.

Every direct requirement imports at its locked version, dl-versions agrees with the lock, word
algebra and spaCy give their answers, and a short ./retrain.sh (10 images of each class of the
embedded dataset, 50 steps) trains a model that ./evaluate.sh then uses on one image of each class.
"""
import json
import re

import pytest
from support.containers import ARCH, run

pytestmark = pytest.mark.smoke

MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}[ARCH]
SCRIPT = r"""set -e
uname -m
python - <<'PY'
import importlib, importlib.metadata as md, json, sys
from dlkit.lock import requirement_names
modules = {"tensorflow-cpu": "tensorflow", "opencv-python-headless": "cv2", "scikit-learn": "sklearn",
           "scikit-image": "skimage", "pillow": "PIL", "pytest-testinfra": "testinfra",
           "jupyterhub": "jupyterhub.singleuser"}
out = {}
for dist in requirement_names("/usr/local/share/deeplearning/requirements.in"):
    importlib.import_module(modules.get(dist, dist.replace("-", "_")))
    out[dist.lower()] = md.version(dist)
print("IMPORTS " + json.dumps(out))
PY
dl-versions --json | python -c 'import json, sys; d = json.load(sys.stdin); print("VERSIONS " + json.dumps({"machine": d["machine"], "libraries": d["libraries"]}))'
./word_algebra.sh "rome - italy + france" --topn 1
./spacy_nlp.sh 'Apple is looking at buying U.K. startup for $1 billion' | grep '^entities'
dataset=$(dl-assets path dataset)
for d in "$dataset"/*/; do  # 10 images of each class: feature extraction is slow under emulation
  mkdir -p "/tmp/small/$(basename "$d")" && find "$d" -type f | sort | head -n 10 | xargs cp -t "/tmp/small/$(basename "$d")"
done
./retrain.sh --image_dir /tmp/small --how_many_training_steps 50 | grep '^Final test accuracy'
./evaluate.sh --model_dir models/retrained --top_k 1 $(for d in "$dataset"/*/; do find "$d" -type f | sort | tail -n 1; done)
"""


@pytest.fixture(scope="module")
def smoke():
    p = run("--network", "none", command=["bash", "-c", SCRIPT], timeout=2400)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    return p.stdout


def tagged(output, tag):
    return json.loads(next(line for line in output.splitlines() if line.startswith(tag + " "))[len(tag) + 1:])


def test_the_platform_is_the_images(smoke, image):
    assert smoke.splitlines()[0] == MACHINE
    assert image["Architecture"] == ARCH


def test_every_library_imports_at_its_locked_version(smoke, lock):
    imported = tagged(smoke, "IMPORTS")
    assert imported and imported == {name: lock[name] for name in imported}


def test_dl_versions_agrees_with_the_lock(smoke, lock):
    versions = tagged(smoke, "VERSIONS")
    assert versions["machine"] == MACHINE
    assert {n.lower(): v["installed"] for n, v in versions["libraries"].items()} == tagged(smoke, "IMPORTS")


def test_word_algebra(smoke):
    assert re.search(r"^paris 0\.8\d\d$", smoke, re.M)


def test_spacy(smoke):
    assert "Apple (ORG)" in smoke and "U.K. (GPE)" in smoke and "$1 billion (MONEY)" in smoke


def test_retrain_then_evaluate_its_model(smoke):
    assert re.search(r"^Final test accuracy = \d+\.\d% \(N=\d+\)$", smoke, re.M)
    labelled = re.findall(r"^  ([a-z ]+) (0\.\d+|1\.0+)$", smoke, re.M)
    assert len(labelled) == 4  # one top-1 line per class of the stand-in dataset
