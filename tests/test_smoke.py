"""The smoke subset: the image's main paths in one offline container, so that a platform run under
emulation (linux/arm64 on x86-64, `make test-arm64`) pays TensorFlow's start-up a few times only.

Every direct requirement imports at its locked version, dl-versions agrees with the lock, word
algebra and spaCy give their answers, the backbone's engine (ONNX Runtime on the CPU images, its
features TensorFlow's on every image of the embedded dataset; TensorFlow on the CUDA image), phone
photos (HEIC, AVIF) through the platform's codecs, and a short ./retrain.sh (10 images of each class of the
embedded dataset, zipped as a Mac does, 50 steps) trains a model that ./evaluate.sh then uses on
one image of each class, by its default engine and by Keras alone, and on a .tar.gz of one
picture as JPEG, HEIC and AVIF; a second run repairs a cache entry replaced by a folder.
"""

import base64
import json
import re

import pytest
from support.containers import ARCH, REPO, VARIANT, payload, run

pytestmark = pytest.mark.smoke

MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}[ARCH]


@pytest.fixture(scope="module")
def smoke():
    files = {  # payload files, handed in as base64 variables: RED_CORNER_HEIC...
        name.upper().replace(".", "_"): base64.b64encode((REPO / "tests" / "payloads" / name).read_bytes()).decode()
        for name in ("red_corner.heic", "red_corner_rotated.heic", "rings.heic", "rings.jpg")
    }
    p = run(
        "--network",
        "none",
        *(a for name, data in files.items() for a in ("-e", f"{name}={data}")),
        command=["bash", "-c", payload("smoke.sh")],
        timeout=2400,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    return p.stdout


def tagged(output, tag):
    return json.loads(next(line for line in output.splitlines() if line.startswith(tag + " "))[len(tag) + 1 :])


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


def test_retrain_takes_a_zip_made_on_a_mac(smoke):
    assert re.search(r"^retrain: 40 files in 4 classes from models/\.archives/[0-9a-f]{16}/small; ", smoke, re.M)


def test_evaluate_without_tensorflow_gives_keras_s_probabilities(smoke):
    """The CPU images label by the backbone on ONNX Runtime and the new layer in NumPy (head.npz);
    the CUDA image by Keras. Either way, the probabilities of model.keras loaded by Keras."""
    runs_on = next(line.split()[1] for line in smoke.splitlines() if line.startswith("EVALUATE_ENGINE "))
    assert runs_on == ("tensorflow" if VARIANT == "cuda" else "onnx")
    auto, keras = (tagged(smoke, f"EVALUATE_{e}") for e in ("auto", "tensorflow"))
    assert len(keras) == 4 and [r["image"] for r in auto] == [r["image"] for r in keras]
    for a, k in zip(auto, keras):
        assert [p["label"] for p in a["predictions"]] == [p["label"] for p in k["predictions"]]
        assert [p["score"] for p in a["predictions"]] == pytest.approx([p["score"] for p in k["predictions"]], abs=2e-3)


def test_the_cpu_images_run_the_backbone_on_onnx_runtime_with_tensorflow_s_features(smoke):
    """dlkit.engine: the backbone converted at build time, cosine >= 0.999 to TensorFlow's features
    on every image of the embedded dataset. The CUDA image keeps TensorFlow (no ONNX Runtime)."""
    result = tagged(smoke, "ENGINE")
    runs_on = "tensorflow" if VARIANT == "cuda" else "onnx"
    assert result["runs_on"] == runs_on
    assert re.search(rf"^retrain: .* features, run by {runs_on}\)$", smoke, re.M)
    if runs_on == "onnx":
        files = int(next(line for line in smoke.splitlines() if line.startswith("DATASET_FILES ")).split()[1])
        assert result["images"] == files > 0
        assert result["min_cosine"] >= 0.999


def test_phone_photos_decode_to_their_pixels_with_this_platform_s_codecs(smoke):
    """HEIC (iPhone; pi-heif's libheif) and AVIF (Android, the web; Pillow's libavif, its EXIF
    orientation applied): a red corner on white, where it belongs, on every platform's wheels; an
    iPhone photo taken sideways (its HEIF rotation and EXIF orientation 6) turned upright once."""
    found = tagged(smoke, "PHOTOS")
    assert sorted(found) == ["red_corner.avif", "red_corner.heic", "red_corner_rotated.heic"]
    for name, f in found.items():
        shape = [64, 32, 3] if "rotated" in name else [32, 64, 3]
        assert f["shape"] == shape and f["red"] <= 8 and f["white"] <= 8, (name, f)


def test_evaluate_labels_an_archive_of_phone_photos_as_their_jpeg(smoke):
    """A .tar.gz of one picture as JPEG, as an iPhone's HEIC and as AVIF (stored upside down, its
    EXIF orientation says so): unpacked, each labelled as the JPEG is."""
    results = {r["image"].rsplit(".", 1)[1]: r["predictions"][0] for r in tagged(smoke, "PHONE_ARCHIVE")}
    assert sorted(results) == ["avif", "heic", "jpg"]
    for photo in ("avif", "heic"):
        assert results[photo]["label"] == results["jpg"]["label"]
        assert results[photo]["score"] == pytest.approx(results["jpg"]["score"], abs=0.05)


def test_a_cache_entry_replaced_by_a_folder_is_recomputed_and_the_zip_stays_unchanged(smoke):
    m = re.search(r"^bottlenecks: (\d+) images, 1 computed, (\d+) from cache", smoke, re.M)
    assert m and int(m.group(2)) == int(m.group(1)) - 1, smoke[-2000:]
    assert re.search(r"^CACHE_REPAIRED file tmp=0$", smoke, re.M)
    assert re.search(r"^ZIP_UNCHANGED$", smoke, re.M)
