"""dl-assets: the image's assets are verified, and fetching checks what it gets.

The fetch path is exercised against a mirror served on 127.0.0.1 inside an offline container.
"""

import hashlib
import json
import os

import pytest
from support.containers import running

PAYLOAD = os.urandom(4096)
GOOD = hashlib.sha256(PAYLOAD).hexdigest()

MANIFEST = f"""
[profiles.test]
description = "served by the tests"

[[assets]]
name = "good"
provides = "weights"
profiles = ["test"]
url = ["http://127.0.0.1:9/unreachable"]
filename = "good.bin"
size = {len(PAYLOAD)}
sha256 = "{GOOD}"
license = "CC0-1.0"
attribution = "random bytes"

[[assets]]
name = "tampered"
provides = "weights"
profiles = ["test"]
url = ["http://127.0.0.1:9/unreachable"]
filename = "tampered.bin"
size = {len(PAYLOAD)}
sha256 = "{GOOD}"
license = "CC0-1.0"
attribution = "the same bytes, one flipped on the mirror"
"""


@pytest.fixture(scope="module")
def mirror():
    """An offline container serving a mirror folder on 127.0.0.1:8765."""
    with running("--network", "none", command=["sleep", "infinity"]) as c:
        tampered = bytes([PAYLOAD[0] ^ 1]) + PAYLOAD[1:]
        script = (
            "import sys, pathlib; p = pathlib.Path('/tmp/mirror'); p.mkdir();"
            f"(p / 'good.bin').write_bytes(bytes.fromhex('{PAYLOAD.hex()}'));"
            f"(p / 'tampered.bin').write_bytes(bytes.fromhex('{tampered.hex()}'));"
            "pathlib.Path('/tmp/manifest.toml').write_text(sys.stdin.read())"
        )
        p = c.exec("bash", "-c", f"python -c \"{script}\" <<'EOF'\n{MANIFEST}\nEOF")
        assert p.returncode == 0, p.stderr
        assert (
            c.exec(
                "bash",
                "-c",
                "nohup python -m http.server 8765 --bind 127.0.0.1 --directory /tmp/mirror >/tmp/http.log 2>&1 &",
            ).returncode
            == 0
        )
        c.exec(
            "python",
            "-c",
            "import time, urllib.request as u\nfor _ in range(50):\n try: u.urlopen("
            "'http://127.0.0.1:8765/'); break\n except OSError: time.sleep(0.1)",
        )
        yield c


FETCH_TEST = ("dl-assets", "--manifest", "/tmp/manifest.toml", "fetch", "--profile", "test")  # the served manifest


def fetch(c, *args):
    return c.exec(
        "env",
        "DL_ASSETS_DIR=/tmp/assets",
        *FETCH_TEST,
        "--dest",
        "/tmp/assets",
        "--mirror",
        "http://127.0.0.1:8765",
        "--mirror-only",
        *args,
    )


def test_a_good_file_from_the_mirror_is_installed_and_indexed(mirror):
    p = fetch(mirror, "--only", "good")
    assert p.returncode == 0, p.stderr
    index = json.loads(mirror.exec("cat", "/tmp/assets/index.json").stdout)
    assert index["assets"]["good"]["digest"] == GOOD
    assert mirror.exec("sha256sum", "/tmp/assets/good/good.bin").stdout.split()[0] == GOOD
    v = mirror.exec("env", "DL_ASSETS_DIR=/tmp/assets", "dl-assets", "verify")
    assert v.returncode == 0 and "good             ok" in v.stdout


def test_a_tampered_file_is_rejected_in_one_line_and_not_installed(mirror):
    p = fetch(mirror, "--only", "tampered")
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 1
    assert len(lines) == 1 and lines[0].startswith("dl-assets: error: tampered: sha256 mismatch")
    assert mirror.exec("test", "-e", "/tmp/assets/tampered").returncode == 1
    assert mirror.exec("bash", "-c", "ls /tmp/assets/.downloads 2>/dev/null | grep -c tampered").stdout.strip() in (
        "",
        "0",
    )


def test_an_unreachable_source_is_one_line(mirror):
    p = mirror.exec(*FETCH_TEST, "--only", "good", "--dest", "/tmp/elsewhere")
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 1 and len(lines) == 1
    assert lines[0].startswith("dl-assets: error: good: could not download it; tried http://127.0.0.1:9/unreachable")


def test_a_backbone_entry_must_give_what_the_examples_read(mirror):
    """Examples take a backbone's input size and feature count from its entry, before building it."""
    partial = MANIFEST.replace(
        'name = "good"\nprovides = "weights"',
        'name = "good"\nprovides = "backbone"\nbackbone = { architecture = "EfficientNetB0", input_size = 224 }',
    )
    assert partial != MANIFEST
    p = mirror.exec(
        "bash", "-c", f"cat > /tmp/partial.toml <<'EOF'\n{partial}\nEOF\ndl-assets --manifest /tmp/partial.toml list"
    )
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.strip() == "dl-assets: error: manifest: backbone 'good' needs backbone = { features, preprocess }"


def test_the_image_assets_verify(host):
    p = host.run("dl-assets verify")
    assert p.rc == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines and all(line.split()[1] == "ok" for line in lines)


def test_the_index_has_the_profile_defaults(assets, image):
    assert assets["profile"] == image["Config"]["Labels"]["io.github.rucka.deeplearning.assets"]
    for kind in ("backbone", "dataset"):
        entry = assets["assets"][assets["defaults"][kind]]
        assert entry["provides"] == kind and entry["license"] and entry["attribution"]


def test_a_missing_asset_says_how_to_get_it(host, assets):
    listing = host.check_output("dl-assets list").splitlines()[1:]
    missing = [line.split()[0] for line in listing if line.split()[4] == "-"]
    assert missing, "every asset of the manifest is installed: nothing to ask for"
    p = host.run(f"dl-assets path {missing[0]}")
    assert p.rc == 1
    assert p.stderr.strip() == (
        f"dl-assets: error: asset '{missing[0]}' is not in this image (profile "
        f"{assets['profile']}); get it with: dl-assets fetch --only {missing[0]} "
        f"(needs the network or --mirror)"
    )
