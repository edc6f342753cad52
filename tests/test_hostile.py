"""Hostile input, as 40 workshop laptops produce it, in an offline container.

A bad file given to a program is one line on stderr and a non-zero exit. A bad file inside a
dataset is one warning line and is skipped (one broken download must not stop a class of 40);
a class left with nothing to train on is an error. The user's files are never changed.
"""

import json
import re

import pytest
from support.containers import NB_GID, NB_UID, offline_box, one_line_error, payload, running

SKIPPED = {  # file: why, as retrain prints it
    "/tmp/ds/loop": "a link back to the dataset folder (a loop)",
    "/tmp/ds/stripes/loop": "a link to a folder that is scanned already (a loop, or another class)",
    "/tmp/ds/stripes/a": "a broken link, or a link loop",
    "/tmp/ds/stripes/b": "a broken link, or a link loop",
    "/tmp/ds/dots/broken.jpg": "a broken link, or a link loop",
    "/tmp/ds/checks/empty.jpg": "not an image (an empty file)",
    "/tmp/ds/checks/notes.png": "not an image",
    "/tmp/ds/checks/truncated.jpg": "unreadable image (image file is truncated",
    "/tmp/ds/rings/giant.png": "20000x20000 pixels is too large to decode safely",
}


@pytest.fixture(scope="module")
def box():
    with offline_box(payload("hostile_setup.sh")) as c:
        yield c


@pytest.fixture(scope="module")
def hostile_run(box):
    return box.retrain("--how_many_training_steps", "50")


def test_retrain_skips_each_bad_file_with_one_warning(hostile_run):
    assert hostile_run.returncode == 0, hostile_run.stderr
    lines = hostile_run.stderr.splitlines()
    for path, why in SKIPPED.items():
        assert len([line for line in lines if line.startswith(f"warning: skipped {path}: {why}")]) == 1, path
    assert all(line.startswith("warning: ") for line in lines), hostile_run.stderr
    assert re.search(r"^Final test accuracy = \d+\.\d% \(N=\d+\)$", hostile_run.stdout, re.M)


def test_odd_names_a_huge_jpeg_and_linked_folders_are_ordinary_images(box, hostile_run):
    labels = box.exec("cat", "/tmp/models/retrained/labels.txt").stdout.splitlines()
    assert labels == ["checks", "città del capo", "dots", "rings", "stripes"]
    metrics = json.loads(box.exec("cat", "/tmp/models/retrained/metrics.json").stdout)
    # 20 generated each, plus: checks the non-UTF-8 name and the PNG named .jpg; dots the linked
    # folder; rings the 20000x20000 JPEG (decoded at 1/8 scale).
    assert metrics["images"]["per_class"] == {
        "checks": 22,
        "città del capo": 20,
        "dots": 21,
        "rings": 21,
        "stripes": 20,
    }


def test_the_dataset_is_untouched(box, hostile_run):
    p = box.exec(
        "bash", "-c", "cd / && md5sum --quiet -c /tmp/dataset.md5 && find /tmp/ds /tmp/elsewhere -type f | wc -l"
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert int(p.stdout) == int(box.exec("bash", "-c", "wc -l < /tmp/dataset.md5").stdout)


@pytest.mark.parametrize(
    "path, message",
    [
        ("/tmp/ds/checks/empty.jpg", "not an image (an empty file)"),
        ("/tmp/ds/checks/truncated.jpg", "unreadable image (image file is truncated ("),
        ("/tmp/ds/checks/notes.png", "not an image"),
        (
            "/tmp/ds/rings/giant.png",
            "20000x20000 pixels is too large to decode safely (limit 89 megapixels; make it smaller)",
        ),
        ("/tmp/ds/dots/broken.jpg", "no such file or folder"),
    ],
)
def test_evaluate_refuses_a_bad_file_in_one_line(box, hostile_run, path, message):
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", path)
    assert one_line_error(p, "evaluate").startswith(f"evaluate: error: {path}: {message}")


def test_evaluate_reads_a_huge_jpeg_and_odd_names(box, hostile_run):
    p = box.exec(
        "./evaluate.sh",
        "--model_dir",
        "/tmp/models/retrained",
        "--top_k",
        "1",
        "/tmp/ds/rings/giant.jpg",
        "/tmp/ds/Città_del Capo/foto 3 ü 写真.jpg",
    )
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "/tmp/ds/Città_del Capo/foto 3 ü 写真.jpg:" in p.stdout.splitlines()


@pytest.mark.workshop
def test_faces_reads_a_huge_jpeg_at_reduced_scale_and_refuses_a_decompression_bomb(box):
    p = box.exec("./faces.sh", "/tmp/ds/rings/giant.jpg", "--output", "/tmp/faces.png", timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("0 faces found\n"), p.stderr
    p = box.exec("./faces.sh", "/tmp/ds/rings/giant.png", "--output", "/tmp/faces.png", timeout=60)
    assert "20000x20000 pixels is too large to decode safely" in one_line_error(p, "faces")


@pytest.mark.parametrize(
    "setup, output, message",
    [
        ("mkdir -p /tmp/ro && chmod 555 /tmp/ro", "/tmp/ro", "folder /tmp/ro is not writable"),
        ("mkdir -p /tmp/ro && chmod 555 /tmp/ro", "/tmp/ro/sub", "Permission denied (/tmp/ro/sub)"),
        ("true", "/tmp/clean/dots/dots_0000.jpg", "/tmp/clean/dots/dots_0000.jpg is a file, not a folder"),
        ("true", "/tmp/clean/models", "/tmp/clean/models is inside the dataset /tmp/clean: it would become a class"),
    ],
)
def test_a_bad_output_folder_is_refused_before_the_slow_part(box, setup, output, message):
    box.exec("bash", "-c", setup)
    p = box.retrain(image_dir="/tmp/clean", output_dir=output)
    assert message in one_line_error(p, "retrain")
    assert box.exec("test", "-e", "/tmp/clean/models").returncode != 0


def test_a_class_whose_only_image_is_held_out_is_an_error(box):
    # which_set() puts solo/one_3.jpg in the validation or testing set, never in training.
    p = box.exec(
        "bash",
        "-c",
        "mkdir -p /tmp/one/solo && cp -r /tmp/clean/dots /tmp/one/ && "
        "cp /tmp/clean/rings/rings_0000.jpg /tmp/one/solo/one_3.jpg && "
        "./retrain.sh --image_dir /tmp/one --output_dir /tmp/one-models",
    )
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0] == "warning: class 'solo' has only 1 image; 20 or more work better"
    assert lines[1] == (
        "warning: the classes are imbalanced: 'dots' has 20 images, 'solo' 1; the model will favour "
        "'dots': read the per-class test accuracy, and add images to 'solo'"
    )
    assert lines[2:] == [
        "retrain: error: class 'solo' has no training image (all fell in the validation or "
        "testing set): add images to it"
    ]


@pytest.fixture(scope="module")
def foreign(box, hostile_run):
    p = box.exec("python", "-c", payload("foreign_files.py"))
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize(
    "model, message",
    [
        ("head-only", "takes input of shape (None, 1280), not square RGB images; it was not made by ./retrain.sh"),
        ("grayscale", "takes input of shape (None, 64, 64, 1), not square RGB images"),
        ("not-a-model", "is not a model this program can load"),
        ("other-labels", "the model has 5 outputs but labels.txt has 2 labels"),
    ],
)
def test_evaluate_refuses_a_foreign_model_folder(box, foreign, model, message):
    p = box.exec("./evaluate.sh", "--model_dir", f"/tmp/foreign/{model}", "/tmp/clean/dots/dots_0000.jpg")
    assert message in one_line_error(p, "evaluate")


def test_evaluate_takes_a_model_of_another_input_size(box, foreign):
    p = box.exec(
        "./evaluate.sh", "--model_dir", "/tmp/foreign/small-input", "--top_k", "5", "/tmp/clean/dots/dots_0000.jpg"
    )
    assert p.returncode == 0, p.stderr
    assert sorted(line.split()[0] for line in p.stdout.splitlines()) == ["checks", "città", "dots", "rings", "stripes"]


def test_a_full_disk_keeps_the_previous_model():
    """Output on a 14 MB tmpfs: the first model (9.6 MB) fits, a second one beside it does not."""
    script = r"""
python -m dlkit.textures /tmp/small --per_class 20 --seed 1 >/dev/null
python -m dlkit.textures /tmp/big --per_class 30 --seed 2 >/dev/null
./retrain.sh --image_dir /tmp/small --output_dir /out --how_many_training_steps 20 >/dev/null || exit 9
md5sum /out/retrained/model.keras /out/retrained/labels.txt /out/retrained/metrics.json > /tmp/before.md5
./retrain.sh --image_dir /tmp/big --output_dir /out --how_many_training_steps 20 >/dev/null 2>/tmp/err
echo "exit $?"
grep -v "^warning: " /tmp/err  # every line that is not a warning
md5sum --quiet -c /tmp/before.md5 && echo "previous model intact"
ls -A /out
"""
    with running(
        "--network", "none", "--tmpfs", f"/out:size=14m,uid={NB_UID},gid={NB_GID}", command=["sleep", "infinity"]
    ) as c:
        p = c.exec("bash", "-c", script, timeout=600)
    lines = p.stdout.splitlines()
    assert lines[0] == "exit 1", p.stdout + p.stderr
    assert re.fullmatch(
        r"retrain: error: No space left on device.*; free some space, or write somewhere else", lines[1]
    )
    assert lines[2:] == ["previous model intact", ".bottlenecks", "retrained"]  # no half-written folder
