"""The library's pure logic on the host, without Docker (pip install -e . : make unit): the split,
label names, archive junk, pixel modes, EXIF orientation, smoothing, the feature cache's repair,
the asset manifest's checks, the lock reader, the imbalance warning, per-class accuracy."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from dlkit import dataset, engine, images, lock, reports
from dlkit.bottlenecks import BottleneckCache
from dlkit.errors import UserError
from dlkit.store import AssetError
from dlkit.store.manifest import check, load_manifest, select, tree_digest


def test_the_split_is_stable_and_follows_the_percentages():
    paths = [f"cat/img{i:04d}.jpg" for i in range(4000)]
    first = [dataset.which_set(p, 10, 10) for p in paths]
    assert first == [dataset.which_set(p, 10, 10) for p in paths]  # the same on every run
    share = {s: first.count(s) / len(paths) for s in dataset.SETS}
    assert abs(share["testing"] - 0.10) < 0.02 and abs(share["validation"] - 0.10) < 0.02
    # Variants of one photo (classic retrain.py's _nohash_) land together.
    assert {dataset.which_set(f"dog/a_nohash_{i}.jpg", 30, 30) for i in range(50)} == {
        dataset.which_set("dog/a", 30, 30)
    }
    # Growing the dataset moves no image between sets.
    assert [dataset.which_set(p, 10, 10) for p in paths[:100]] == first[:100]


@pytest.mark.parametrize(
    "folder, label",
    [
        ("Homer_Simpson", "homer simpson"),
        ("Città_del_Capo", "città del capo"),
        ("ÉCOLE", "école"),
        ("Cafe\u0301", "café"),
        ("  red--panda!! ", "red panda"),
        ("東京", "東京"),
    ],
)
def test_label_names_from_folder_names(folder, label):
    assert dataset.label_of(folder) == label


def make_classes(root, counts, names=None):
    for i, n in enumerate(counts):
        folder = root / (names[i] if names else f"class{i}")
        folder.mkdir()
        for j in range(n):
            (folder / f"{j}.jpg").write_bytes(b"not decoded by scan")


def test_folders_whose_labels_collide_are_one_clear_error(tmp_path):
    make_classes(tmp_path, [2, 2], names=["Homer_Simpson", "homer simpson"])
    with pytest.raises(UserError, match="both give the label 'homer simpson'"):
        dataset.scan(tmp_path)


@pytest.mark.parametrize("name", ["__MACOSX", ".DS_Store", "._photo.jpg", "Thumbs.db", "desktop.ini", ".git"])
def test_archive_and_system_junk_is_never_data(name):
    assert dataset.is_junk(name)


@pytest.mark.parametrize("name", ["photo.jpg", "macosx", "thumbs.jpg", "Desktop"])
def test_real_names_are_not_junk(name):
    assert not dataset.is_junk(name)


def test_scan_leaves_junk_out_with_one_note(tmp_path, capsys):
    make_classes(tmp_path, [3, 3])
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "class0" / "._0.jpg").write_bytes(b"resource fork")
    classes = dataset.scan(tmp_path)
    assert sorted(len(f) for f in classes.values()) == [3, 3]
    assert capsys.readouterr().err.count("note: skipped 2 archive or system entries") == 1


@pytest.mark.parametrize("counts, warned", [([20, 20], False), ([79, 20], False), ([80, 20], True)])
def test_the_imbalance_warning_starts_at_four_to_one(tmp_path, capsys, counts, warned):
    make_classes(tmp_path, counts)
    dataset.scan(tmp_path)
    assert ("the classes are imbalanced" in capsys.readouterr().err) == warned


WHITE, RED = (255, 255, 255), (255, 0, 0)
PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"


@pytest.mark.parametrize(
    "image, expected",
    [
        (Image.new("RGB", (2, 2), RED), RED),
        (Image.new("RGBA", (2, 2), (255, 0, 0, 0)), WHITE),  # transparent: over white
        (Image.new("LA", (2, 2), (0, 0)), WHITE),
        (Image.new("L", (2, 2), 128), (128, 128, 128)),
        (Image.new("1", (2, 2), 1), WHITE),
        (Image.new("I;16", (2, 2), 65535), WHITE),  # 16-bit grey, scaled (not clipped)
        (Image.fromarray(np.full((2, 2), 0.5, np.float32), "F"), (128, 128, 128)),  # 0..1
        (Image.new("CMYK", (2, 2), (0, 255, 255, 0)), RED),
        (Image.new("P", (2, 2), 0).convert("P"), (0, 0, 0)),
    ],
    ids=["RGB", "RGBA", "LA", "L", "1", "I;16", "F", "CMYK", "P"],
)
def test_every_pixel_mode_decodes_to_the_right_rgb(image, expected):
    rgb = images.to_rgb(image)
    assert rgb.mode == "RGB" and rgb.getpixel((1, 1)) == expected


def test_16_bit_grey_is_scaled_not_clipped():
    ramp = Image.fromarray(np.array([[0, 32768, 65535]], np.uint16))
    assert [images.to_rgb(ramp).getpixel((x, 0))[0] for x in range(3)] == [0, 128, 255]


def test_an_unknown_pixel_mode_is_one_line():
    with pytest.raises(images.BadImage, match=r"^x.tif: RGBa pixels are not supported \(save it as"):
        images.to_rgb(Image.new("RGBa", (2, 2)), "x.tif")


# Where the photo's top-left pixel is once upright (Pillow's ImageOps.exif_transpose agrees).
RED_AT = {1: (0, 0), 2: (3, 0), 3: (3, 1), 4: (0, 1), 5: (0, 0), 6: (1, 0), 7: (1, 3), 8: (0, 3)}


@pytest.mark.parametrize("suffix", ["jpg", "avif"])
@pytest.mark.parametrize("orientation", sorted(RED_AT))
def test_exif_orientation_makes_the_picture_upright(tmp_path, orientation, suffix):
    """A 4x2 photo, red in its top-left pixel, saved with the camera's orientation tag."""
    picture = Image.new("RGB", (4, 2), WHITE)
    picture.putpixel((0, 0), RED)
    exif = Image.Exif()
    exif[images.ORIENTATION] = orientation
    path = tmp_path / f"phone.{suffix}"
    picture.save(path, exif=exif, quality=100, **({"subsampling": 0} if suffix == "jpg" else {}))
    upright = images.read_image(path)
    assert upright.size == ((4, 2) if orientation < 5 else (2, 4))
    red = np.asarray(upright)[..., 1] < 128  # no green: the red pixel (JPEG blurs its edge a little)
    assert [tuple(map(int, p)) for p in np.argwhere(red)[:, ::-1]] == [RED_AT[orientation]]
    with Image.open(path) as reference:
        assert (
            np.abs(np.asarray(ImageOps.exif_transpose(reference).convert("RGB"), int) - np.asarray(upright, int)).max()
            == 0
        )


def test_an_iphone_heic_photo_decodes_to_its_pixels():
    """64x32, a red 16x16 corner on white (encoded by libheif's HEVC encoder, pillow-heif)."""
    picture = np.asarray(images.read_image(PAYLOADS / "red_corner.heic"), int)
    assert picture.shape == (32, 64, 3)
    assert np.abs(picture[:14, :14] - RED).max() <= 4 and np.abs(picture[18:, 18:] - WHITE).max() <= 4


def test_an_iphone_photo_taken_sideways_is_turned_upright_once():
    """The 64x32 picture above, as an iPhone stores one taken sideways: HEIF's own rotation (irot)
    and EXIF orientation 6 (encoded by pillow-heif). Upright, it stands 32x64, its red corner top
    right; applying both rotations would lay it down again."""
    picture = np.asarray(images.read_image(PAYLOADS / "red_corner_rotated.heic"), int)
    assert picture.shape == (64, 32, 3)
    assert np.abs(picture[:14, 18:] - RED).max() <= 4 and np.abs(picture[18:, :14] - WHITE).max() <= 4


def test_heic_support_loads_only_when_a_file_needs_it(tmp_path):
    """pi-heif's import (~50 ms) is paid by the first file Pillow alone cannot identify, not by
    every program that reads images; a file that is no image stays "not an image" either way."""
    Image.new("RGB", (8, 8), RED).save(tmp_path / "red.jpg")
    (tmp_path / "notes.jpg").write_text("not a picture")
    script = """if True:
        import sys
        from dlkit import images
        def read(name):
            try:
                images.read_image(name)
                return "read"
            except images.BadImage as e:
                return e.reason
        print(read(sys.argv[1]), "pi_heif" in sys.modules)
        for name in sys.argv[2:]:
            print(read(name), "pi_heif" in sys.modules)
    """
    args = [tmp_path / "red.jpg", tmp_path / "notes.jpg", PAYLOADS / "red_corner.heic", tmp_path / "notes.jpg"]
    out = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["read False", "not an image True", "read True", "not an image True"]


def test_a_large_jpeg_decodes_at_reduced_scale_and_says_by_how_much(tmp_path):
    Image.new("RGB", (2000, 1000), RED).save(tmp_path / "big.jpg")
    reduced, full = images.read_image(tmp_path / "big.jpg", draft=(250, 250)), images.read_image(tmp_path / "big.jpg")
    assert (reduced.size, reduced.info["scale"]) == ((500, 250), 4.0)  # 1/4: the smallest still 250 high
    assert (full.size, full.info["scale"]) == ((2000, 1000), 1.0)
    assert np.abs(np.asarray(reduced, int) - RED).max() <= 2


def test_a_file_that_is_not_an_image_is_one_line(tmp_path):
    (tmp_path / "notes.jpg").write_text("hello")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(images.BadImage, match="notes.jpg: not an image$"):
        images.read_image(tmp_path / "notes.jpg")
    with pytest.raises(images.BadImage, match=r"empty.jpg: not an image \(an empty file\)"):
        images.read_image(tmp_path / "empty.jpg")


@pytest.mark.parametrize(
    ("steps", "every", "expected"),
    [(25, 10, [0, 10, 20, 24]), (30, 10, [0, 10, 20, 29]), (30, 15, [0, 15, 29]), (1, 10, [0]), (3, 1, [0, 1, 2])],
)
def test_the_classic_lines_come_every_interval_and_at_the_last_step(steps, every, expected):
    assert reports.report_steps(steps, every) == expected


def test_4000_steps_report_401_times():
    reported = reports.report_steps(4000, 10)
    assert len(reported) == 401 and reported[:2] == [0, 10] and reported[-2:] == [3990, 3999]


def test_smoothing_is_tensorboard_s_moving_average():
    assert len(reports.ema([])) == 0
    assert reports.ema([1.0, 1.0, 1.0]) == pytest.approx([1.0, 1.0, 1.0])
    assert reports.ema([0.0, 10.0], weight=0.6) == pytest.approx([0.0, 4.0])


def test_per_class_accuracy_names_a_class_the_model_always_gets_wrong(capsys):
    y_true, y_pred = np.array([0, 0, 1, 1, 1]), np.array([0, 0, 0, 0, 0])
    acc = reports.per_class_accuracy(y_true, y_pred, ["cat", "dog", "fox"])
    assert acc == {"cat": 1.0, "dog": 0.0, "fox": None}
    assert capsys.readouterr().out.strip() == (
        "Per-class test accuracy: cat 100.0% (N=2), dog 0.0% (N=3), fox n/a (no test image of this class)"
    )


def test_the_feature_cache_treats_damaged_entries_as_missing_and_repairs_them(tmp_path):
    cache = BottleneckCache(tmp_path, "mobilenet_v2")
    good = np.arange(4, dtype=np.float32)
    digests = [hashlib.sha256(bytes([i])).hexdigest() for i in range(5)]
    for d in digests:
        cache.put(d, good)
    cache.path(digests[0]).write_bytes(b"\x93NUMPY truncated")  # an interrupted write by another tool
    np.save(cache.path(digests[1]), np.full(4, np.nan, np.float32))  # not finite
    np.save(cache.path(digests[2]), np.zeros((2, 2), np.float32))  # the wrong shape
    cache.path(digests[3]).unlink()  # gone
    assert [cache.get(d, 4) is None for d in digests] == [True, True, True, True, False]
    assert cache.get(digests[4], dim=8) is None  # features of another backbone's length
    for d in digests[:4]:
        cache.put(d, good)
    assert all(np.array_equal(cache.get(d, 4), good) for d in digests)
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_feature_cache_repairs_a_folder_or_file_in_place_of_an_entry(tmp_path):
    cache = BottleneckCache(tmp_path, "mobilenet_v2")
    good = np.arange(4, dtype=np.float32)
    entry, shard = [hashlib.sha256(bytes([i])).hexdigest() for i in (1, 2)]
    (cache.path(entry) / "inside").mkdir(parents=True)  # a folder where the entry should be
    cache.folder.mkdir(parents=True, exist_ok=True)
    cache.path(shard).parent.write_bytes(b"")  # a file where its shard folder should be
    assert cache.get(entry, 4) is None and cache.get(shard, 4) is None
    cache.put(entry, good)
    cache.put(shard, good)
    assert np.array_equal(cache.get(entry, 4), good) and np.array_equal(cache.get(shard, 4), good)
    assert not list(tmp_path.rglob("*.tmp"))


def test_features_of_two_engines_never_mix_in_the_cache(tmp_path):
    tf_cache, onnx_cache = BottleneckCache(tmp_path, "mobilenet_v2"), BottleneckCache(tmp_path, "mobilenet_v2", "onnx")
    digest = hashlib.sha256(b"image").hexdigest()
    tf_cache.put(digest, np.ones(4, np.float32))
    assert onnx_cache.get(digest, 4) is None
    assert tf_cache.folder == BottleneckCache(tmp_path, "mobilenet_v2", "tensorflow").folder  # caches made before


@pytest.mark.parametrize(
    "wanted, converted, problem, gpu, runs_on",
    [
        ("auto", True, None, False, "onnx"),
        ("auto", False, None, False, "tensorflow"),  # a backbone fetched after the build: not converted
        ("auto", True, "not installed", False, "tensorflow"),  # the CUDA image: no ONNX Runtime
        ("auto", True, "cannot read this CPU", False, "tensorflow"),  # an old arm64 emulator
        ("auto", True, None, True, "tensorflow"),  # a GPU: TensorFlow runs the backbone there
        ("onnx", True, None, True, "onnx"),
        ("tensorflow", True, None, False, "tensorflow"),
    ],
)
def test_the_engine_is_onnx_runtime_where_it_can_run_else_tensorflow(wanted, converted, problem, gpu, runs_on):
    assert engine.decide(wanted, converted, problem, gpu) == runs_on


X86_CPUINFO = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n"
ARM_CPUINFO = "processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x61\n"


@pytest.mark.parametrize(
    "installed, machine, cpuinfo, problem",
    [
        (True, "x86_64", X86_CPUINFO, None),
        (True, "aarch64", ARM_CPUINFO, None),  # Apple silicon, Graviton, qemu >= 8
        (
            True,
            "aarch64",
            X86_CPUINFO,
            "ONNX Runtime cannot read this CPU (an arm64 emulator with another machine's /proc/cpuinfo)",
        ),
        (False, "x86_64", X86_CPUINFO, "ONNX Runtime is not installed in this image"),
    ],
)
def test_onnx_runtime_is_not_started_where_its_cpu_probe_would_crash(installed, machine, cpuinfo, problem):
    assert engine.runtime_problem(installed, machine, cpuinfo) == problem


@pytest.mark.parametrize(
    "converted, problem, message",
    [
        (False, None, "--engine onnx: this image has no ONNX file for this backbone (converted at build time)"),
        (
            True,
            "ONNX Runtime is not installed in this image",
            "--engine onnx: ONNX Runtime is not installed in this image",
        ),
    ],
)
def test_asking_for_onnx_where_it_cannot_run_is_one_line(converted, problem, message):
    with pytest.raises(UserError) as e:
        engine.decide("onnx", converted, problem, False)
    assert str(e.value) == message + "; use --engine tensorflow"


MANIFEST = (
    'profiles = { standin = { description = "test" } }\nassets = [{ name = "weights", filename = "w.bin", '
    'url = ["https://example.org/w.bin"], sha256 = "SHA", size = 700, profiles = ["standin"] }]\n'
)


def test_the_manifest_s_hash_check_refuses_a_tampered_file(tmp_path):
    payload = tmp_path / "w.bin"
    payload.write_bytes(b"weights" * 100)
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(MANIFEST.replace("SHA", hashlib.sha256(payload.read_bytes()).hexdigest()))
    profiles, assets = load_manifest(manifest)
    (asset,) = select(assets, "standin", [])
    check(asset, payload)
    payload.write_bytes(b"weightz" * 100)
    with pytest.raises(AssetError, match="sha256 mismatch for w.bin .*corrupt or tampered with"):
        check(asset, payload)
    payload.write_bytes(b"weights")
    with pytest.raises(AssetError, match="is 7 bytes, the manifest says 700"):
        check(asset, payload)
    with pytest.raises(AssetError, match="no asset named nope"):
        select(assets, "standin", ["nope"])


@pytest.mark.parametrize(
    "entry, message",
    [
        ('name = "a"\nfilename = "a"\nurl = ["u"]', "has no sha256 or md5"),
        ('name = "a"\nsha256 = "0"\nurl = ["u"]', "has no filename"),
        ('name = "a"\nfilename = "a"\nsha256 = "0"', "needs exactly one of url, pypi, generate"),
        ('name = "a"\nfilename = "a"\nsha256 = "0"\nurl = ["u"]\nprovides = "backbone"', "needs backbone = {"),
    ],
)
def test_a_broken_manifest_is_one_line(tmp_path, entry, message):
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(f"[[assets]]\n{entry}\n")
    with pytest.raises(AssetError, match=message.replace("{", r"\{")):
        load_manifest(manifest)
    manifest.write_text("[[assets]\n")
    with pytest.raises(AssetError, match="is not valid TOML"):
        load_manifest(manifest)


def test_converting_without_the_build_s_converters_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    """dl-assets engines needs onnx and tf2onnx, which only the build installs."""
    import importlib.util

    from dlkit.store import cli

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else found(name, *a))
    assert cli.main(["engines", "--dest", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("dl-assets: error: converting needs ")
    assert err[0].endswith("until then TensorFlow runs the backbone") and "tf2onnx" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_converting_a_backbone_that_is_not_installed_is_one_line(tmp_path, capsys):
    from dlkit.store import cli

    assert cli.main(["engines", "--dest", str(tmp_path), "--only", "efficientnet_b7"]) == 1
    assert capsys.readouterr().err == (
        f"dl-assets: error: no backbone named efficientnet_b7 in {tmp_path} (installed there: none)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_folder_s_digest_changes_with_any_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("1")
    before = tree_digest(tmp_path / "a")
    (tmp_path / "a" / "x").write_text("2")
    assert tree_digest(tmp_path / "a") != before


def test_the_lock_reader(tmp_path):
    requirements = tmp_path / "cpu.in"
    requirements.write_text(
        '# comment\ntensorflow[and-cuda]>=2  # inline\nspacy\nfoo ; platform_machine == "aarch64"\n'
    )
    locked = tmp_path / "cpu.txt"
    locked.write_text("spacy==3.8.7 \\\n    --hash=sha256:00\nTensorflow==2.20.0 ; python_version >= '3'\n")
    assert lock.requirement_names(requirements, "amd64") == ["tensorflow", "spacy"]
    assert lock.requirement_names(requirements, "arm64") == ["tensorflow", "spacy", "foo"]
    assert lock.locked_versions(locked) == {"spacy": "3.8.7", "tensorflow": "2.20.0"}
    assert lock.direct_pins(requirements, locked, "arm64") == {"tensorflow": "2.20.0", "spacy": "3.8.7", "foo": None}


def test_a_re_issued_wheel_is_the_same_bytes_twice_and_pip_installs_it(tmp_path):
    """dlkit.store.convert.pack_wheel: the stand-in's spaCy pipeline, re-issued as a wheel."""
    import subprocess
    import sys
    import zipfile

    from dlkit.store.convert import pack_wheel

    tree = tmp_path / "tree"
    (tree / "pipe").mkdir(parents=True)
    (tree / "pipe" / "__init__.py").write_text("ANSWER = 42\n")
    info = tree / "pipe-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pipe\nVersion: 1.0\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = pack_wheel(tree, tmp_path / "a" / "pipe-1.0-py3-none-any.whl", info / "RECORD")
    b = pack_wheel(tree, tmp_path / "b" / "pipe-1.0-py3-none-any.whl", info / "RECORD")
    assert a.read_bytes() == b.read_bytes()
    assert zipfile.ZipFile(a).namelist()[-1] == "pipe-1.0.dist-info/RECORD"
    p = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", tmp_path / "site", a],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "site" / "pipe" / "__init__.py").read_text() == "ANSWER = 42\n"


def head(outputs=3, model="m", weights="w"):
    return {
        "kernel": np.zeros((8, outputs), np.float32),
        "bias": np.zeros(outputs, np.float32),
        "backbone": np.array("mobilenet"),
        "weights": np.array(weights),
        "model": np.array(model),
    }


@pytest.mark.parametrize(
    "saved, model, installed, labels, problem",
    [
        (head(), "m", "w", 3, None),
        (None, "m", "w", 3, "the model has no readable head.npz (saved by an older image, or copied without it)"),
        (head(), "changed", "w", 3, "model.keras changed since ./retrain.sh saved it with head.npz"),
        (head(), "m", "other", 3, "backbone mobilenet is not installed here with the weights the model was trained on"),
        (head(), "m", "", 3, "backbone mobilenet is not installed here with the weights the model was trained on"),
        (head(), "m", "w", 2, "the model has 3 outputs but labels.txt has 2 labels"),
    ],
)
def test_evaluate_runs_without_tensorflow_only_on_the_head_of_this_very_model(saved, model, installed, labels, problem):
    """head.npz stands for model.keras only if it was saved with it and the backbone's weights are those installed."""
    assert engine.head_problem(saved, model, installed, labels) == problem


def test_a_model_folder_without_a_head_file_is_labelled_by_keras_or_refused_in_one_line(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"zip")
    assert engine.labeller(tmp_path, 2, "auto") is None and engine.labeller(tmp_path, 2, "tensorflow") is None
    with pytest.raises(UserError) as e:
        engine.labeller(tmp_path, 2, "onnx")
    assert str(e.value).startswith("--engine onnx: the model has no readable head.npz")
    (tmp_path / "head.npz").write_bytes(b"damaged")
    assert engine.labeller(tmp_path, 2, "auto") is None
