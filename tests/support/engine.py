"""A second Docker engine with empty storage, beside the one that builds: a workshop attendee's
laptop, which has never seen the image. For tests/release (load the bundle, pull from the registry)
and bench/bench_release.py. Needs root (it runs dockerd); the first engine is left untouched."""

import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


class EngineError(RuntimeError):
    pass


@contextmanager
def fresh_engine():
    """Yield the docker CLI arguments that address a new, empty engine (["-H", "unix://..."])."""
    dockerd = shutil.which("dockerd")
    if not dockerd:
        raise EngineError("dockerd is needed for a second engine (make engine installs Debian's docker.io)")
    root = Path(tempfile.mkdtemp(prefix="engine-"))
    host = ["-H", f"unix://{root}/docker.sock"]
    # A bridge of its own: with `--bridge none` dockerd deletes the host's docker0, the first engine's.
    bridge = f"dl{root.name[-8:]}"
    for cmd in (
        ["link", "add", bridge, "type", "bridge"],
        ["addr", "add", "169.254.231.1/24", "dev", bridge],
        ["link", "set", bridge, "up"],
    ):
        subprocess.run(["ip", *cmd], check=True, capture_output=True)
    log = open(root / "dockerd.log", "w")
    proc = subprocess.Popen(
        [
            dockerd,
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "docker.pid"),
            *host,
            "--bridge",
            bridge,
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", *host, "info"], capture_output=True).returncode:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise EngineError("the second engine did not start: " + (root / "dockerd.log").read_text()[-500:])
            time.sleep(0.5)
        yield host
    finally:
        left = subprocess.run(["docker", *host, "ps", "-aq"], capture_output=True, text=True).stdout.split()
        if left:
            subprocess.run(["docker", *host, "rm", "-f", *left], capture_output=True)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        subprocess.run(["ip", "link", "delete", bridge], capture_output=True)
        subprocess.run(["umount", "-R", str(root / "data")], capture_output=True)
        # Its storage (two images unpacked: some 200,000 files) goes while the next test runs.
        subprocess.Popen(
            ["rm", "-rf", "--one-file-system", str(root)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
