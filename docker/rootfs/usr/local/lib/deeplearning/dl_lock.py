"""The image's requirement files: direct requirements (*.in) and their pinned versions (lock *.txt).

One reader for the three places that need them: `dl-versions` in the image, the tests on the host,
and docker/harness/build.sh, which labels the image with each direct requirement's version:

    python3 dl_lock.py labels REQUIREMENTS.in LOCK.txt      one "name=version" line each
Standard library only (build.sh runs it with the host's python3).
"""
import re
import sys


def requirement_names(path):
    """Names of the direct requirements, as written ('tensorflow[and-cuda]>=2' -> 'tensorflow')."""
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0])
    return names


def locked_versions(path):
    """{lower-case name: version} of the name==version lines of a uv / pip-tools lock."""
    pins = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
            if m:
                pins[m.group(1).lower()] = m.group(2)
    return pins


def direct_pins(requirements_in, lock):
    """{name as written: locked version or None} for each direct requirement."""
    pins = locked_versions(lock)
    return {name: pins.get(name.lower()) for name in requirement_names(requirements_in)}


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "labels":
        sys.exit("usage: dl_lock.py labels REQUIREMENTS.in LOCK.txt")
    for name, version in direct_pins(sys.argv[2], sys.argv[3]).items():
        if version:
            print(f"{name}={version}")
