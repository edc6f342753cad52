"""A real registry on 127.0.0.1 (Debian's docker-registry: the CNCF distribution registry), its
storage in a temporary folder; for tests/release and bench/bench_release.py."""

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from support.containers import docker


class RegistryError(RuntimeError):
    pass


@contextmanager
def local_registry():
    """Yield host:port of a fresh registry; stop it, remove its storage and its local tags after."""
    server = shutil.which("docker-registry")
    if not server:
        raise RegistryError("docker-registry is needed: apt-get install docker-registry")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(tempfile.mkdtemp(prefix="registry-"))
    (root / "config.yml").write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root}/data\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    with open(root / "log", "w") as log:
        proc = subprocess.Popen([server, "serve", str(root / "config.yml")], stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RegistryError("the registry did not start: " + (root / "log").read_text()[-500:])
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for ref in docker(
            "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"reference=127.0.0.1:{port}/*/*:*"
        ).stdout.split():
            docker("rmi", ref, check=False)
        shutil.rmtree(root, ignore_errors=True)
