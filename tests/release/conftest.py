"""Shipping the images: the images a release is made of, a real registry on 127.0.0.1, and a second,
empty Docker engine to receive them as a user's laptop does."""

import pytest
from support.containers import docker
from support.engine import EngineError, fresh_engine
from support.images import ARCHES, REPOSITORY, image_id
from support.registry import RegistryError, local_registry


@pytest.fixture(scope="session")
def built():
    """The images a release is made of: IMAGE:cpu-amd64, IMAGE:cpu-arm64 (make build, make build-arm64)."""
    missing = [
        f"{REPOSITORY}:cpu-{a}"
        for a in ARCHES
        if docker("image", "inspect", f"{REPOSITORY}:cpu-{a}", check=False).returncode
    ]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} (make build; make build-arm64)")
    return {a: image_id(f"{REPOSITORY}:cpu-{a}") for a in ARCHES}


def serving(server, error):
    """Yield what the context manager `server()` yields; its failure to start fails the test, in one line."""
    try:
        with server() as host:
            yield host
    except error as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def registry():
    yield from serving(local_registry, RegistryError)


@pytest.fixture(scope="module")
def laptop():
    """A new, empty engine (its own storage), one per test file: `docker(*laptop, ...)` talks to it."""
    yield from serving(fresh_engine, EngineError)
