"""The lock files are the only source of versions: docker/harness/check-pins.py (run by `make lint`)
passes our Dockerfile and fails, one line each, on every way of installing something unpinned."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHECK = [sys.executable, str(REPO / "docker" / "harness" / "check-pins.py")]

UNPINNED = {
    "RUN apt-get update && apt-get install -y --no-install-recommends curl": "apt-get install curl without =version",
    "RUN pip install requests": "pip installs requests from the command line",
    "RUN python3 -m pip install numpy==1.26.0": "pip installs numpy==1.26.0 from the command line",
    "RUN pip install -r requirements.txt": "pip install without both -r LOCK and --require-hashes",
    "RUN uv pip install --require-hashes -r /tmp/lock.txt": "pip installs from /tmp/lock.txt, not a COPY",
    "RUN curl -fsSL https://example.org/get.sh | sh": "curl downloads software outside the locks",
    "RUN git clone https://example.org/repo.git": "git clone fetches software outside the locks",
    "ADD https://example.org/weights.h5 /opt/": "ADD from a URL",
    "RUN grep -v '^#' /tmp/apt.txt | xargs apt-get install -y": "fed by xargs from no docker/requirements/apt-*.txt",
    "RUN conda install -y pytorch": "conda install is not pinned by a lock",
    "RUN npm ci --omit=dev": "npm ci without a COPY of its package-lock.json",
    "RUN pip install --require-hashes -r /tmp/req/$VARIANT-$arch.txt": "pip installs from /tmp/req/$VARIANT-$arch.txt, not a COPY",
    "RUN /mnt/apt-install /tmp/packages.txt": "apt-install from /tmp/packages.txt, not a COPY",
    "RUN /mnt/venv-install /tmp/lock.txt x86_64-manylinux_2_36": "venv-install from /tmp/lock.txt, not a COPY",
    "RUN pip install --no-deps /srv/dlkit-1.0.0-py3-none-any.whl": "pip installs /srv/dlkit-1.0.0-py3-none-any.whl from",
}


def check(*files):
    return subprocess.run(CHECK + [str(f) for f in files], capture_output=True, text=True)


def test_our_dockerfile_and_locks_pass():
    p = check(REPO / "docker" / "Dockerfile")
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_every_unpinned_install_fails_with_its_line(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:bookworm-slim\n" + "\n".join(UNPINNED) + "\n")
    p = check(dockerfile)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert len(lines) == len(UNPINNED), p.stderr
    for n, (line, message) in enumerate(zip(lines, UNPINNED.values()), 2):
        assert line.startswith(f"check-pins: {dockerfile}:{n}: ") and message in line, line


def test_locked_installs_pass(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM debian:bookworm-slim\n"
        "COPY docker/requirements/apt-os.txt /tmp/apt.txt\n"
        "RUN grep -v '^#' /tmp/apt.txt | xargs apt-get install -y --no-install-recommends \\\n"
        " && apt-get install -y tini=0.19.0-1+b3\n"
        "COPY docker/requirements/cpu-amd64.txt /tmp/requirements.txt\n"
        "RUN pip install --require-hashes --only-binary :all: -r /tmp/requirements.txt\n"
        "COPY docker/requirements/${VARIANT}-*.txt /tmp/requirements/\n"
        'RUN arch=$(dpkg --print-architecture) && pip install --require-hashes -r "/tmp/requirements/$VARIANT-$arch.txt"\n'
        "COPY deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json ./\n"
        "RUN npm ci --omit=dev\n"
        "COPY docker/requirements/apt-hub.txt docker/requirements/apt-hub-build.txt /tmp/\n"
        "RUN --mount=type=bind,source=docker/build,target=/mnt /mnt/apt-install /tmp/apt-hub.txt /tmp/apt-hub-build.txt\n"
        "COPY docker/requirements/cpu-arm64.txt /tmp/lock.txt\n"
        "RUN /mnt/venv-install /tmp/lock.txt aarch64-manylinux_2_36 && /mnt/settle /opt/venv\n"
        "RUN pip install --no-deps --no-index --no-compile /srv/dlkit-*.whl\n"
    )
    p = check(dockerfile)
    assert p.returncode == 0, p.stderr
