"""Fixtures for testing the built image; the helpers they use are in support/ (shared with bench/)."""

import json
import secrets

import pytest
from support.containers import IMAGE, LOCK, docker, pins, running


@pytest.fixture(scope="session")
def image():
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.exit(f"image {IMAGE} is not built: run `make build` (or `make test`, which builds it)", 2)
    return json.loads(docker("image", "inspect", IMAGE).stdout)[0]


@pytest.fixture(scope="session")
def assets(image):
    """The image's asset index (/opt/assets/index.json): profile, defaults, installed assets."""
    return json.loads(docker("run", "--rm", "--network", "none", IMAGE, "cat", "/opt/assets/index.json").stdout)


@pytest.fixture(scope="session")
def lock():
    return pins(LOCK)


@pytest.fixture(scope="session")
def token():
    return secrets.token_hex(16)


@pytest.fixture(scope="session")
def lab(image, token):
    """JupyterLab as users start it: the default command, a token, 8888 published on 127.0.0.1."""
    with running("-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}") as c:
        c.wait_healthy(timeout=90)
        yield c


@pytest.fixture(scope="session")
def host(lab):
    """testinfra view of the running JupyterLab container."""
    return lab.host
