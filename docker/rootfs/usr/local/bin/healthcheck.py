#!/usr/bin/python3
"""Docker HEALTHCHECK: the servers this container runs answer on loopback.

Jupyter is asked for /api (found through its runtime files, else $JUPYTER_PORT), TensorBoard for
/data/environment ($TB_PORT). A container that runs neither (./retrain.sh, a shell) is healthy.
Standard library only, so a check costs a few milliseconds.
"""

import glob
import json
import os
import sys
import urllib.request


def running(name):
    """True when some process has `name` in the file name of an argument of its command line."""
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if any(name in os.path.basename(a) for a in args[:3]):
            return True
    return False


def jupyter_urls():
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR") or os.path.expanduser("~/.local/share/jupyter/runtime")
    for path in glob.glob(os.path.join(runtime, "jpserver-*.json")):
        try:
            with open(path) as f:
                info = json.load(f)
            yield "http://127.0.0.1:%d%sapi" % (info["port"], info.get("base_url", "/"))
        except (OSError, ValueError, KeyError):
            continue
    yield "http://127.0.0.1:%s/api" % os.environ.get("JUPYTER_PORT", "8888")


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=1.5) as r:
            return r.status == 200
    except OSError:
        return False


def main():
    checks = []
    if running(b"jupyter"):
        checks.append(("jupyter", any(answers(u) for u in jupyter_urls())))
    if running(b"tensorboard"):
        checks.append(
            ("tensorboard", answers("http://127.0.0.1:%s/data/environment" % os.environ.get("TB_PORT", "6006")))
        )
    bad = [name for name, ok in checks if not ok]
    print(" ".join("%s:%s" % (n, "ok" if ok else "down") for n, ok in checks) or "no server to check")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
