"""Transfer learning in the image, offline: ./retrain.sh and ./evaluate.sh end to end.

Everything runs in one container started with --network none, on a dataset generated in it
(the image's dlkit.textures), with held-out images from another seed.
"""

import json
import re

import pytest
from support.containers import REPO, docker, one_line_error, payload, run, running
from support.untrained_backbone import convert_for_onnx, install_untrained_backbone, saved_backbone

STEPS = "300"


@pytest.fixture(scope="module")
def box():
    """An offline container with a generated dataset and held-out images."""
    with running("--network", "none", command=["sleep", "infinity"]) as c:
        for args in (
            ["/tmp/ds", "--per_class", "40", "--seed", "1"],
            ["/tmp/heldout", "--per_class", "4", "--seed", "99"],
        ):
            p = c.exec("python", "-m", "dlkit.textures", *args)
            assert p.returncode == 0, p.stderr
        yield c


@pytest.fixture(scope="module")
def first_run(box):
    p = box.retrain("--how_many_training_steps", STEPS, timeout=900)
    assert p.returncode == 0, p.stderr
    return p


def test_prints_the_classic_lines(first_run):
    out = first_run.stdout
    assert re.search(r"^Step 0: Train accuracy = \d+\.\d%$", out, re.M)
    assert re.search(r"^Step 10: Cross entropy = \d+\.\d{6}$", out, re.M)
    assert re.search(r"^Step 290: Validation accuracy = \d+\.\d% \(N=\d+\)$", out, re.M)
    assert re.search(rf"^Step {int(STEPS) - 1}: Train accuracy", out, re.M)


def test_final_test_accuracy_is_far_above_chance(first_run):
    m = re.search(r"^Final test accuracy = (\d+\.\d)% \(N=(\d+)\)$", first_run.stdout, re.M)
    assert m, first_run.stdout[-2000:]
    accuracy, n = float(m.group(1)), int(m.group(2))
    assert n >= 8
    assert accuracy >= 80.0  # 4 classes: chance is 25%


def test_writes_every_output(box, first_run, assets):
    files = box.exec("ls", "-A", "/tmp/models/retrained").stdout.split()
    assert {"model.keras", "labels.txt", "logs", "learning_curves.png", "confusion_matrix.png", "metrics.json"} <= set(
        files
    )
    assert box.exec("cat", "/tmp/models/retrained/labels.txt").stdout.split() == ["checks", "dots", "rings", "stripes"]
    metrics = json.loads(box.exec("cat", "/tmp/models/retrained/metrics.json").stdout)
    assert metrics["backbone"] == assets["defaults"]["backbone"] and metrics["images"]["total"] == 160
    assert metrics["bottlenecks"] == {**metrics["bottlenecks"], "computed": 160, "cached": 0}
    for png in ("learning_curves.png", "confusion_matrix.png"):
        assert box.host.file(f"/tmp/models/retrained/{png}").content.startswith(b"\x89PNG\r\n")
    events = box.exec("find", "/tmp/models/retrained/logs", "-name", "events.out.tfevents.*").stdout.split()
    assert {e.split("/")[5] for e in events} == {"train", "validation"}
    # No staging folder is left behind.
    assert [f for f in box.exec("ls", "-A", "/tmp/models").stdout.split() if f.startswith(".retrained")] == []


def test_a_second_run_takes_every_bottleneck_from_the_cache(box, first_run):
    p = box.retrain("--how_many_training_steps", "20", "--name", "again")
    assert p.returncode == 0, p.stderr
    assert "bottlenecks: 160 images, 0 computed, 160 from cache" in p.stdout


def test_tensorflow_is_the_engine_s_fallback_with_its_own_cache_and_the_same_result(box, first_run):
    """The first run's backbone ran on ONNX Runtime (dlkit.engine); --engine tensorflow runs it on
    TensorFlow, caches those features apart, and trains to the same test accuracy."""
    assert re.search(r"^retrain: .* features, run by onnx\)$", first_run.stdout, re.M)
    p = box.retrain("--how_many_training_steps", STEPS, "--name", "by-tensorflow", "--engine", "tensorflow")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^retrain: .* features, run by tensorflow\)$", p.stdout, re.M)
    assert "bottlenecks: 160 images, 160 computed, 0 from cache" in p.stdout
    final = [re.search(r"^Final test accuracy = .*$", out, re.M).group() for out in (first_run.stdout, p.stdout)]
    assert final[0] == final[1]
    metrics = json.loads(box.exec("cat", "/tmp/models/by-tensorflow/metrics.json").stdout)
    assert metrics["bottlenecks"]["engine"] == "tensorflow"


def test_a_phone_photo_decodes_at_reduced_scale_with_the_features_of_a_full_decode(box):
    """A 12-megapixel JPEG costs what a small one does (Pillow's draft: libjpeg's DCT scaling, here
    1/8), and the backbone's features stay those of the full decode (cosine >= 0.999)."""
    p = box.exec("python", "-c", payload("draft_features.py"), timeout=600)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout.splitlines()[-1])
    assert result["min_cosine"] >= 0.999
    assert all(result["input_size"] <= min(w, h) and w == 4032 // 8 for w, h in result["decoded"])


def test_a_cached_re_run_trains_exactly_as_the_first_run(box, first_run):
    """Same flags, same seed: every bottleneck comes from the cache, the new layer trains while the
    backbone is built in the background, on one TensorFlow thread, and every number is the same."""
    p = box.retrain("--how_many_training_steps", STEPS, "--name", "rerun")
    assert p.returncode == 0, p.stderr
    assert "bottlenecks: 160 images, 0 computed, 160 from cache" in p.stdout
    training = re.compile(r"^(?:Step \d+: |Final test accuracy).*$", re.M)
    assert len(training.findall(p.stdout)) == 3 * 31 + 1
    assert training.findall(p.stdout) == training.findall(first_run.stdout)
    first, rerun = (saved_backbone(box, f"/tmp/models/{name}/model.keras") for name in ("retrained", "rerun"))
    assert rerun == first and rerun["weights"] > 100


def test_distortions_train_through_keras_preprocessing_layers(box, first_run):
    """--flip_left_right --random_scale: each step's images distorted afresh (Keras's preprocessing
    layers), the backbone run on them, and fit trains on those features; the classic lines still
    come every 10 steps and at the last, and the model, made of Keras's own classes only, labels the
    held-out images with plain Keras calls."""
    p = box.retrain(
        "--how_many_training_steps", "25", "--flip_left_right", "--random_scale", "10", "--name", "distorted"
    )
    assert p.returncode == 0, p.stderr
    assert "distortions: on;" in p.stdout
    steps = [int(s) for s in re.findall(r"^Step (\d+): Validation accuracy = ", p.stdout, re.M)]
    assert steps == [0, 10, 20, 24]
    m = re.search(r"^Final test accuracy = (\d+\.\d)% \(N=(\d+)\)$", p.stdout, re.M)
    assert m and float(m.group(1)) >= 60.0, p.stdout[-1500:]
    plain = box.exec(
        "python", "-I", "-c", payload("plain_keras.py"), "/tmp/models/distorted/model.keras", "/tmp/heldout"
    )
    assert plain.returncode == 0, plain.stderr
    right, total = map(int, plain.stdout.split()[-2:])
    assert total == 16 and right >= 12, plain.stdout


@pytest.mark.parametrize(
    "damage",
    ["echo garbage > {entry}", "rm {entry} && mkdir -p {entry}/inside"],  # an interrupted write; a folder
    ids=["garbage", "folder"],
)
def test_a_damaged_cache_entry_is_recomputed(box, first_run, damage):
    # An entry of the cache the default run reads (ONNX Runtime's features; TensorFlow's are apart).
    entry = box.exec("bash", "-c", "find /tmp/models/.bottlenecks/*-onnx -name '*.npy' | head -1").stdout.strip()
    assert box.exec("bash", "-c", damage.format(entry=entry)).returncode == 0
    p = box.retrain("--how_many_training_steps", "20", "--name", "again")
    assert p.returncode == 0, p.stderr
    assert "bottlenecks: 160 images, 1 computed, 159 from cache" in p.stdout
    assert box.exec("test", "-f", entry).returncode == 0
    assert box.exec("find", "/tmp/models/.bottlenecks", "-name", "*.tmp").stdout == ""


def test_the_split_does_not_change_when_the_dataset_moves(box, first_run):
    assert box.exec("cp", "-r", "/tmp/ds", "/tmp/moved").returncode == 0
    p = box.retrain("--how_many_training_steps", "20", "--name", "moved", image_dir="/tmp/moved")
    split = re.compile(r"^split: .*$", re.M)
    assert split.search(p.stdout).group(0) == split.search(first_run.stdout).group(0)


def test_a_zip_of_the_dataset_trains_with_the_same_split_and_stays_unchanged(box, first_run):
    """The dataset zipped as people zip it (one folder, a __MACOSX beside it): unpacked once."""
    zipped = "mkdir -p /tmp/z/__MACOSX && cp -r /tmp/ds /tmp/z/textures && cd /tmp/z && python -m zipfile -c /tmp/ds.zip textures __MACOSX"
    assert box.exec("bash", "-c", zipped + " && md5sum /tmp/ds.zip > /tmp/ds.zip.md5").returncode == 0
    runs = [box.retrain("--how_many_training_steps", "20", "--name", "zipped", image_dir="/tmp/ds.zip") for _ in (1, 2)]
    assert all(p.returncode == 0 for p in runs), runs[0].stderr
    assert "note: unpacked /tmp/ds.zip into /tmp/models/.archives/" in runs[0].stderr
    assert "note: unpacked" not in runs[1].stderr  # the second run reads the same folder
    assert "bottlenecks: 160 images, 0 computed, 160 from cache" in runs[0].stdout  # the same images
    split = re.compile(r"^split: .*$", re.M)
    assert split.search(runs[0].stdout).group(0) == split.search(runs[1].stdout).group(0)
    assert split.search(runs[0].stdout).group(0) == split.search(first_run.stdout).group(0)
    assert box.exec("md5sum", "-c", "/tmp/ds.zip.md5").returncode == 0
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/zipped", "--json", "--top_k", "1", "/tmp/ds.zip")
    assert p.returncode == 0, p.stderr
    assert len(json.loads(p.stdout)) == 160


def test_evaluate_reads_an_archive_beside_a_read_only_model(box, first_run):
    """A model folder mounted :ro: the archive of images is unpacked under /tmp instead."""
    ready = "cd /tmp && python -m zipfile -c /tmp/held.zip heldout"
    assert (
        box.exec(
            "bash", "-c", f"{ready} && mkdir /tmp/ro && cp -r /tmp/models/retrained /tmp/ro && chmod -R a-w /tmp/ro"
        ).returncode
        == 0
    )
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/ro/retrained", "--json", "/tmp/held.zip")
    assert p.returncode == 0, p.stderr
    assert len(json.loads(p.stdout)) == 16
    assert "note: unpacked /tmp/held.zip into /tmp/dl-archives/" in p.stderr
    assert box.exec("find", "/tmp/ro", "-name", ".archives").stdout == ""


@pytest.mark.workshop
def test_an_archive_with_a_path_out_of_its_folder_is_refused_in_one_line(box):
    evil = (
        "import tarfile, io; t = tarfile.open('/tmp/evil.tar.gz', 'w:gz'); i = tarfile.TarInfo('../../tmp/owned.jpg'); "
        "i.size = 4; t.addfile(i, io.BytesIO(b'evil')); t.close()"
    )
    assert box.exec("python", "-c", evil).returncode == 0
    p = box.retrain(image_dir="/tmp/evil.tar.gz", output_dir="/tmp/evilmodels")
    assert one_line_error(p, "retrain") == (
        "retrain: error: /tmp/evil.tar.gz: refused: its member '../../tmp/owned.jpg' would be written outside the folder"
    )
    assert box.exec("test", "-e", "/tmp/owned.jpg").returncode != 0
    assert box.exec("find", "/tmp/evilmodels", "-mindepth", "2").stdout == ""


def test_evaluate_labels_held_out_images(box, first_run):
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", "--json", "/tmp/heldout")
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)
    assert len(results) == 16
    right = sum(r["predictions"][0]["label"] == r["image"].split("/")[3] for r in results)
    assert right >= 14, results


def evaluate_json(box, *args):
    p = box.exec("./evaluate.sh", "--json", *args)
    assert p.returncode == 0, p.stderr
    return {r["image"]: [(q["label"], q["score"]) for q in r["predictions"]] for r in json.loads(p.stdout)}


def test_evaluate_runs_the_backbone_by_onnx_runtime_with_keras_s_probabilities(box, first_run):
    """retrain saves its new layer beside model.keras (head.npz): evaluate runs the backbone by ONNX
    Runtime and that layer in NumPy, without importing TensorFlow (here it cannot: a tensorflow that
    fails to import comes first on the path), and gives the probabilities of Keras's model.keras."""
    box.exec(
        "bash",
        "-c",
        "mkdir -p /tmp/notf/tensorflow && echo 'raise ImportError(\"no\")' > /tmp/notf/tensorflow/__init__.py",
    )
    model = ["--model_dir", "/tmp/models/retrained", "/tmp/heldout"]
    keras = evaluate_json(box, "--engine", "tensorflow", *model)
    onnx = evaluate_json(box, "--engine", "onnx", *model)
    assert len(keras) == 16 and onnx.keys() == keras.keys()
    for image, predictions in keras.items():
        assert [label for label, _ in onnx[image]] == [label for label, _ in predictions], image
        assert [score for _, score in onnx[image]] == pytest.approx([score for _, score in predictions], abs=2e-3)
    assert evaluate_json(box, *model) == onnx  # the default
    no_tensorflow = box.exec("env", "PYTHONPATH=/tmp/notf", "./evaluate.sh", "--engine", "onnx", "--json", *model)
    assert no_tensorflow.returncode == 0, no_tensorflow.stderr
    assert box.exec("env", "PYTHONPATH=/tmp/notf", "python", "-c", "import tensorflow").returncode != 0


def test_evaluate_loads_a_model_changed_after_retrain_with_keras(box, first_run):
    """A model.keras changed in a notebook (here: its new layer made to say 'dots' always) is
    labelled by Keras, never by the head.npz of the model it was; without head.npz as well.
    --engine onnx then says why in one line."""
    changed = r"""
import sys, numpy as np, keras
m = keras.models.load_model(sys.argv[1] + "/model.keras", compile=False)
layer = m.get_layer("head").get_layer("final_result")
kernel, bias = layer.get_weights()
bias[:] = -100.0
bias[open(sys.argv[1] + "/labels.txt").read().split().index("dots")] = 100.0
layer.set_weights([kernel, bias])
m.save(sys.argv[1] + "/model.keras")
"""
    box.exec(
        "bash",
        "-c",
        "rm -rf /tmp/changed /tmp/headless && cp -r /tmp/models/retrained /tmp/changed && "
        "cp -r /tmp/models/retrained /tmp/headless && rm /tmp/headless/head.npz",
    )
    assert box.exec("python", "-c", changed, "/tmp/changed").returncode == 0
    labels = evaluate_json(box, "--model_dir", "/tmp/changed", "/tmp/heldout")
    assert len(labels) == 16 and {p[0][0] for p in labels.values()} == {"dots"}
    line = one_line_error(
        box.exec("./evaluate.sh", "--engine", "onnx", "--model_dir", "/tmp/changed", "/tmp/heldout"), "evaluate"
    )
    assert line == (
        "evaluate: error: --engine onnx: model.keras changed since ./retrain.sh saved it with head.npz; "
        "use --engine tensorflow"
    )
    keras = evaluate_json(box, "--engine", "tensorflow", "--model_dir", "/tmp/models/retrained", "/tmp/heldout")
    headless = evaluate_json(box, "--model_dir", "/tmp/headless", "/tmp/heldout")
    assert headless == keras
    line = one_line_error(
        box.exec("./evaluate.sh", "--engine", "onnx", "--model_dir", "/tmp/headless", "/tmp/heldout"), "evaluate"
    )
    assert "--engine onnx: the model has no readable head.npz" in line


def test_evaluate_labels_an_avif_photo_as_its_jpeg(box, first_run):
    """AVIF (Android's and the web's photos) is read like JPEG, its camera orientation applied."""
    jpeg = box.exec("bash", "-c", "ls /tmp/heldout/rings/* | head -1").stdout.strip()
    convert = (
        "import sys; from PIL import Image; e = Image.Exif(); e[0x0112] = 3; "
        "Image.open(sys.argv[1]).rotate(180).save('/tmp/photo.avif', quality=95, exif=e)"
    )  # stored upside down, and tagged so: upright once read
    assert box.exec("python", "-c", convert, jpeg).returncode == 0
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", "--json", jpeg, "/tmp/photo.avif")
    assert p.returncode == 0, p.stderr
    (as_jpeg, as_avif) = [r["predictions"] for r in json.loads(p.stdout)]
    assert as_avif[0]["label"] == as_jpeg[0]["label"]
    assert abs(as_avif[0]["score"] - as_jpeg[0]["score"]) < 0.05


def test_evaluate_labels_an_iphone_heic_photo_as_its_jpeg(box, first_run):
    """The same picture as HEIC (pillow-heif's encoder) and as JPEG: the same label, the same score."""
    for name in ("rings.heic", "rings.jpg"):
        docker("cp", str(REPO / "tests" / "payloads" / name), f"{box.id}:/tmp/{name}")
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", "--json", "/tmp/rings.jpg", "/tmp/rings.heic")
    assert p.returncode == 0, p.stderr
    (as_jpeg, as_heic) = [r["predictions"] for r in json.loads(p.stdout)]
    assert as_heic[0]["label"] == as_jpeg[0]["label"]
    assert abs(as_heic[0]["score"] - as_jpeg[0]["score"]) < 0.05


def test_evaluate_labels_a_folder_in_batches_as_it_labels_each_image(box, first_run):
    """A folder goes through the network 32 at a time (the last batch padded); a bad file in the
    middle is one error line and the others keep their order and the scores they get alone."""
    box.exec("bash", "-c", "mkdir /tmp/many && cp /tmp/ds/*/*_000[0-9].* /tmp/many/ && echo text > /tmp/many/m.jpg")
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", "--json", "/tmp/many")
    assert p.returncode == 1 and p.stderr.strip() == "evaluate: error: /tmp/many/m.jpg: not an image"
    results = json.loads(p.stdout)
    names = box.exec("ls", "/tmp/many").stdout.split()
    assert len(names) == 41 and [r["image"] for r in results] == [f"/tmp/many/{n}" for n in sorted(names)]
    assert [r for r in results if "error" in r] == [{"image": "/tmp/many/m.jpg", "error": "not an image"}]
    good = [r for r in results if "predictions" in r]
    for r in (good[0], good[35], good[-1]):  # in the first batch, the second, the last image
        alone = json.loads(
            box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", "--json", r["image"]).stdout
        )[0]
        assert [q["label"] for q in alone["predictions"]] == [q["label"] for q in r["predictions"]]
        assert [q["score"] for q in alone["predictions"]] == pytest.approx(
            [q["score"] for q in r["predictions"]], abs=1e-5
        )


def test_evaluate_prints_label_score_lines(box, first_run):
    p = box.exec(
        "./evaluate.sh", "--model_dir", "/tmp/models/retrained", "--top_k", "3", "/tmp/heldout/dots/dots_0000.jpg"
    )
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 3
    assert all(re.fullmatch(r"[a-z ]+ \d\.\d{8}", line) for line in lines)
    assert lines[0].startswith("dots ")
    scores = [float(line.split()[-1]) for line in lines]
    assert scores == sorted(scores, reverse=True)


def test_a_png_named_jpg_is_read_by_content(box, first_run):
    box.exec("cp", "/tmp/heldout/rings/rings_0002.png", "/tmp/really-a-png.jpg")
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", "/tmp/really-a-png.jpg")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[0] == "rings"


def test_retrain_with_no_arguments_uses_the_embedded_data_offline(assets):
    p = run("--network", "none", command=["./retrain.sh"], timeout=1800)
    assert p.returncode == 0, p.stderr
    dataset = assets["assets"][assets["defaults"]["dataset"]]["path"]
    assert f"from {dataset}; backbone {assets['defaults']['backbone']}" in p.stdout
    assert re.search(r"^Final test accuracy = \d+\.\d% \(N=\d+\)$", p.stdout, re.M)
    assert "Traceback" not in p.stderr and p.stderr.strip() == ""


@pytest.mark.parametrize(
    "setup, message",
    [
        ("mkdir -p /tmp/bad/empty", "has 0 class folder(s)"),
        ("mkdir -p /tmp/bad/one/cats && cp /tmp/ds/dots/dots_0000.jpg /tmp/bad/one/cats/", "has 1 class folder(s)"),
        (
            "mkdir -p /tmp/bad/hollow/a /tmp/bad/hollow/b && cp /tmp/ds/dots/dots_0000.jpg /tmp/bad/hollow/a/",
            "class 'b' (/tmp/bad/hollow/b) has no images",
        ),
        ("true", "image_dir /tmp/bad/missing does not exist"),
    ],
)
def test_bad_datasets_give_one_line_errors(box, setup, message):
    folder = re.search(r"/tmp/bad/\w+", setup + " /tmp/bad/missing").group(0)
    box.exec("bash", "-c", setup)
    p = box.retrain(image_dir=folder, output_dir="/tmp/badmodels")
    assert message in one_line_error(p, "retrain")


def test_evaluate_rejects_a_file_that_is_not_an_image(box, first_run):
    box.exec("bash", "-c", "echo 'not a picture' > /tmp/notes.png")
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/retrained", "/tmp/notes.png")
    assert one_line_error(p, "evaluate") == "evaluate: error: /tmp/notes.png: not an image"


def test_evaluate_without_a_model_says_what_to_do(box):
    p = box.exec("./evaluate.sh", "--model_dir", "/tmp/nothing-here", "/tmp/heldout/dots/dots_0000.jpg")
    assert "run ./retrain.sh first" in one_line_error(p, "evaluate")


def test_mirrored_strategy_over_two_logical_cpus_gives_the_same_training(box, first_run):
    common = ["--image_dir", "/tmp/ds", "--output_dir", "/tmp/models", "--how_many_training_steps", "100"]
    single = box.exec("./retrain.sh", *common, "--name", "single", timeout=600)
    mirrored = box.exec(
        "env",
        "DL_LOGICAL_CPUS=2",
        "./retrain.sh",
        *common,
        "--name",
        "mirrored",
        "--distribute",
        "mirrored",
        timeout=600,
    )
    assert single.returncode == 0 and mirrored.returncode == 0, single.stderr + mirrored.stderr
    assert "distribute: MirroredStrategy, 2 replica(s): device:CPU:0, device:CPU:1" in mirrored.stdout
    # Each replica takes half of every batch and the gradients are summed: the same steps as one device.
    # (Sums taken in another order may differ in the last digits: compare the numbers closely.)
    numbers = [
        [
            float(v)
            for line in re.findall(r"^(?:Step \d+|Final test).*$", p.stdout, re.M)
            for v in re.findall(r"\d+\.\d+", line)
        ]
        for p in (single, mirrored)
    ]
    assert numbers[0] and len(numbers[0]) == len(numbers[1])
    assert numbers[1] == pytest.approx(numbers[0], abs=0.06)
    assert json.loads(box.exec("cat", "/tmp/models/mirrored/metrics.json").stdout)["replicas"] == 2


def interrupted_run(box, when, signal, *args):
    """Start ./retrain.sh with args in a session of its own, send signal to every process of it
    `when` seconds in (or "training": at its first step; or a folder: when the first feature is
    cached there), and check it stops cleanly: exit status 130, the one line last on stderr
    (warnings may come first), no traceback from any process, no process left behind. Returns
    what the run did, with the seconds from the signal to its end."""
    p = box.exec(
        "python",
        "-c",
        payload("interrupt.py"),
        str(when),
        signal,
        "./retrain.sh",
        "--image_dir",
        "/tmp/ds",
        "--output_dir",
        "/tmp/models",
        *args,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    run = json.loads(p.stdout)
    assert run["status"] == 130 and run["left"] == 0, run
    assert run["stderr"].splitlines()[-1] == "retrain: interrupted; nothing half-written was kept", run
    assert "Traceback" not in run["stderr"], run
    return run


@pytest.mark.parametrize("signal", ["SIGINT", "SIGTERM"])  # Ctrl-C, `docker stop`
def test_an_interrupt_mid_training_keeps_the_previous_model_and_the_cache(box, first_run, signal):
    files = ["/tmp/models/retrained/model.keras", "/tmp/models/retrained/metrics.json"]
    before = box.exec("md5sum", *files).stdout
    interrupted_run(box, "training", signal, "--how_many_training_steps", "1000000", "--eval_step_interval", "5000")
    assert box.exec("md5sum", *files).stdout == before
    assert [f for f in box.exec("ls", "-A", "/tmp/models").stdout.split() if ".tmp-" in f or f.endswith(".old")] == []
    again = box.retrain("--how_many_training_steps", "10", "--name", "after-" + signal)
    assert "160 images, 0 computed, 160 from cache" in again.stdout


def test_a_backbone_installed_by_an_older_image_is_one_line(box, first_run):
    """A user's own asset folder outlives the image: an entry from before the feature count."""
    assert box.exec("python", "-c", payload("older_cache_entry.py")).returncode == 0
    p = box.retrain("--backbone", "older")
    assert one_line_error(p, "retrain") == (
        "retrain: error: backbone 'older' was installed by an older version of this image; "
        "install it again: dl-assets fetch --only older"
    )


@pytest.mark.parametrize("after", [0.4, 1.0, 2.0, 3.5])
def test_ctrl_c_while_a_run_starts_is_one_line(box, first_run, after):
    """While TensorFlow is imported and a helper process looks the features up: one line, no
    traceback from either process, and no process left behind."""
    interrupted_run(box, after, "SIGINT", "--name", "ctrl-c")


def test_the_users_default_backbone_architecture_loads_from_a_keras_weights_file(box, first_run):
    """Users get EfficientNetB0 from Keras' notop .h5 weights file, unreachable here: the same
    architecture, untrained, in the same file format and installed the same way (dl-assets, hash
    checked) must go through retrain and evaluate, its weights really taken from the file."""
    made = install_untrained_backbone(box)
    p = box.retrain("--backbone", made["name"], "--name", "effnet", "--how_many_training_steps", "20", timeout=900)
    assert p.returncode == 0, p.stderr
    # Installed after the build, it has no converted network: TensorFlow runs it, and asking for
    # ONNX Runtime says why not in one line.
    assert f"backbone {made['name']} (224x224, 1280 features, run by tensorflow)" in p.stdout
    line = one_line_error(box.retrain("--backbone", made["name"], "--engine", "onnx", "--name", "x"), "retrain")
    assert line == (
        "retrain: error: --engine onnx: this image has no ONNX file for this backbone (converted at build time); "
        "use --engine tensorflow"
    )
    assert "160 images, 160 computed, 0 from cache" in p.stdout  # its own cache, apart from the default's
    saved = saved_backbone(box, "/tmp/models/effnet/model.keras")
    assert saved["name"] == "efficientnetb0" and saved["weights"] == made["weights"]
    assert saved["weights_sum"] == pytest.approx(made["weights_sum"], rel=1e-6)
    e = box.exec("./evaluate.sh", "--model_dir", "/tmp/models/effnet", "/tmp/heldout/dots/dots_0000.jpg")
    assert e.returncode == 0, e.stderr
    assert len(re.findall(r"^(checks|dots|rings|stripes) \d\.\d{8}$", e.stdout, re.M)) == 4, e.stdout
    # Other weights under the same name (a new random start): the cache must not serve the old features.
    assert install_untrained_backbone(box)["weights_sum"] != made["weights_sum"]
    p = box.retrain("--backbone", made["name"], "--name", "effnet", "--how_many_training_steps", "10", timeout=900)
    assert "160 images, 160 computed, 0 from cache" in p.stdout, p.stdout + p.stderr


# The backbone's features by both engines, on the held-out images: the lowest cosine between them.
COSINE = """
import glob, sys
import numpy as np
from dlkit import assets, engine
from dlkit.images import load_image
backbone = sys.argv[1]
x = np.stack([load_image(f, assets.backbone_spec(backbone)["input_size"]) for f in sorted(glob.glob("/tmp/heldout/*/*"))])
a = np.asarray(engine.predictor(backbone, "tensorflow")(x))
b = np.asarray(engine.predictor(backbone, "onnx")(x))
print(len(x), float(min((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))))
"""


def test_the_users_default_backbone_converted_runs_on_onnx_runtime_with_tensorflow_s_features(box, first_run):
    """The users' build converts EfficientNetB0 for ONNX Runtime (dl-assets engines, with onnx and
    tf2onnx, which the image leaves out). Asked to convert, the image says what it needs in one line;
    converted here the same way, the architecture gives TensorFlow's features (cosine >= 0.999) and
    retrain's default engine runs it by ONNX Runtime."""
    line = one_line_error(box.exec("dl-assets", "engines"), "dl-assets")
    assert line.startswith("dl-assets: error: converting needs onnx and tf2onnx, which the image leaves out")
    made = install_untrained_backbone(box)
    convert_for_onnx(box, made["name"])
    p = box.exec("python", "-c", COSINE, made["name"], timeout=600)
    assert p.returncode == 0, p.stderr
    images, cosine = p.stdout.split()
    assert int(images) == 16 and float(cosine) >= 0.999, p.stdout
    p = box.retrain("--backbone", made["name"], "--name", "effnet-onnx", "--how_many_training_steps", "20", timeout=900)
    assert p.returncode == 0, p.stderr
    assert f"backbone {made['name']} (224x224, 1280 features, run by onnx)" in p.stdout
    assert "160 images, 160 computed, 0 from cache" in p.stdout
    metrics = json.loads(box.exec("cat", "/tmp/models/effnet-onnx/metrics.json").stdout)
    assert metrics["bottlenecks"]["engine"] == "onnx"


def test_docker_stop_during_feature_extraction_ends_the_run_within_a_second(box, first_run):
    """SIGTERM (what `docker stop` sends) while images are decoded and run through the backbone:
    the batches decoded ahead are dropped, not finished; the partial cache stays valid."""
    assert (
        box.exec("python", "-m", "dlkit.textures", "/tmp/to-extract", "--per_class", "150", "--seed", "5").returncode
        == 0
    )
    run = interrupted_run(
        box,
        "/tmp/fresh-cache",
        "SIGTERM",
        "--image_dir",
        "/tmp/to-extract",
        "--bottleneck_dir",
        "/tmp/fresh-cache",
        "--name",
        "stopped",
    )
    assert run["seconds"] < 1.0, run
