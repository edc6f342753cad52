"""The locks agree with each other: each platform's pylock (the wheel the image installs, with its
address: what the SBOM names) is its requirements lock's resolution, file for file."""

import re
import tomllib
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[2] / "docker" / "requirements"
LOCKS = ["cpu-amd64", "cpu-arm64", "cuda-amd64"]
PLATFORM = {"amd64": "x86_64", "arm64": "aarch64"}


def hashed_pins(lock):
    """{name: (version, {sha256...})} of a uv requirements lock."""
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text()):
        m = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if m:
            pins[m.group(1).lower()] = (m.group(2), set(re.findall(r"sha256:([0-9a-f]{64})", block)))
    return pins


@pytest.mark.parametrize("name", LOCKS)
def test_the_pylock_is_the_requirements_lock_file_for_file(name):
    pins = hashed_pins(REQUIREMENTS / f"{name}.txt")
    pylock = tomllib.loads((REQUIREMENTS / f"pylock.{name}.toml").read_text())
    assert {p["name"]: p["version"] for p in pylock["packages"]} == {n: v for n, (v, _) in pins.items()}
    machine = PLATFORM[name.rsplit("-", 1)[1]]
    for p in pylock["packages"]:
        wheels = p["wheels"]
        assert wheels, f"{p['name']}: no wheel (the image installs wheels only)"
        for w in wheels:
            assert w["hashes"]["sha256"] in pins[p["name"]][1], (p["name"], w["url"])
            platform_tag = w["url"].rsplit("/", 1)[-1][: -len(".whl")].rsplit("-", 1)[1]
            assert platform_tag == "any" or machine in platform_tag, (p["name"], w["url"])
