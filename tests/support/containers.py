"""Containers of the image under test, run with the real Docker engine (tests and benchmarks).

IMAGE (env) names the image under test; `make test` builds it first and passes it.
Containers are started with `docker run`, inspected with testinfra's docker:// backend and
removed at the end, also when a test fails.
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import testinfra

from dlkit.lock import locked_versions, requirement_names  # the image's own reader (pip install -e .)

IMAGE = os.environ.get("IMAGE", "rucka/deeplearning:cpu")
REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "docker" / "requirements"
VARIANT = os.environ.get("VARIANT", "cpu")
# The image's architecture (Docker's name): its lock is docker/requirements/VARIANT-ARCH.txt.
ARCH = os.environ.get("ARCH") or {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
LOCK = REQUIREMENTS / f"{VARIANT}-{ARCH}.txt"
# The image's user and workspace, as the Dockerfile sets them (test_runtime checks they agree).
NB_USER, NB_UID, NB_GID = "jovyan", 1000, 100
WORKDIR = f"/home/{NB_USER}/work"


def payload(name):
    """The text of tests/payloads/NAME: a program the tests send into a container (python -c, bash -c)."""
    return (REPO / "tests" / "payloads" / name).read_text()


def docker(*args, check=True, timeout=300, **kw):
    """Run the docker CLI; return the CompletedProcess with text output."""
    return subprocess.run(["docker", *args], check=check, timeout=timeout, capture_output=True, text=True, **kw)


def http_get(url, token=None, timeout=5, method="GET", body=None):
    """(status, body) of an HTTP request (body: sent as JSON); HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"} if body is not None else {},
    )
    if token:
        req.add_header("Authorization", "token " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(predicate, timeout, interval=0.25, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Container:
    """A running container of the image under test."""

    def __init__(self, cid):
        self.id = cid
        self.host = testinfra.get_host("docker://" + cid)

    def inspect(self):
        return json.loads(docker("inspect", self.id).stdout)[0]

    def port(self, container_port):
        """The host port published for container_port (on 127.0.0.1)."""
        out = docker("port", self.id, str(container_port)).stdout.split()[0]
        return int(out.rsplit(":", 1)[1])

    def url(self, container_port, path="/"):
        return f"http://127.0.0.1:{self.port(container_port)}{path}"

    def logs(self):
        p = docker("logs", self.id, check=False)
        return p.stdout + p.stderr

    def health(self):
        return self.inspect()["State"].get("Health", {}).get("Status")

    def wait_healthy(self, timeout=60):
        return wait_for(lambda: self.health() == "healthy", timeout, what=f"{self.id[:12]} healthy")

    def retrain(self, *args, image_dir="/tmp/ds", output_dir="/tmp/models", timeout=600):
        """./retrain.sh on image_dir into output_dir, with more of its flags."""
        return self.exec("./retrain.sh", "--image_dir", image_dir, "--output_dir", output_dir, *args, timeout=timeout)

    def exec(self, *cmd, user=None, timeout=300):
        """Run cmd in the container; return the CompletedProcess (no check)."""
        args = ["exec"] + (["--user", user] if user else []) + [self.id, *cmd]
        return docker(*args, check=False, timeout=timeout)


@contextmanager
def running(*run_args, command=()):
    """A detached container of IMAGE, removed afterwards: running("-p", "...", command=[...])."""
    cid = docker("run", "-d", "--platform", f"linux/{ARCH}", *run_args, IMAGE, *command).stdout.strip()
    try:
        yield Container(cid)
    finally:
        docker("rm", "-f", "-v", cid, check=False)


@contextmanager
def offline_box(setup=None, timeout=300):
    """An idle offline container of IMAGE to exec into, after a bash setup script (which must succeed)."""
    with running("--network", "none", command=["sleep", "infinity"]) as c:
        if setup:
            p = c.exec("bash", "-c", setup, timeout=timeout)
            assert p.returncode == 0, p.stderr
        yield c


def run(*run_args, command=(), timeout=600):
    """`docker run --rm` to completion; return the CompletedProcess (no check)."""
    return docker(
        "run", "--rm", "--platform", f"linux/{ARCH}", *run_args, IMAGE, *command, check=False, timeout=timeout
    )


def one_line_error(p, prog):
    """Assert p failed with exactly one line on stderr, '<prog>: error: ...'; return that line."""
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert p.returncode != 0
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"{prog}: error: ")
    return lines[0]


def pins(lock):
    """{name: version} of a uv/pip-tools lock file."""
    return locked_versions(lock)


def direct_requirements(path):
    """The direct requirements of the image's architecture, lower-case."""
    return [name.lower() for name in requirement_names(path, ARCH)]


# The locked-down run of a hostile or air-gapped workshop: no network, read-only root filesystem,
# no Linux capabilities; only /tmp and models/ writable (tmpfs).
LOCKED = [
    "--network",
    "none",
    "--read-only",
    "--cap-drop",
    "ALL",
    "--tmpfs",
    "/tmp",
    "--tmpfs",
    f"{WORKDIR}/models:uid={NB_UID},gid={NB_GID}",
]
