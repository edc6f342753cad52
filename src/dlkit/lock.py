"""The image's requirement files: direct requirements (*.in) and their pinned versions (lock *.txt).

One reader for the three places that need them: `dl-versions` in the image, the tests on the host,
and docker/harness/build.sh, which labels the image with each direct requirement's version:

    python3 lock.py labels REQUIREMENTS.in LOCK.txt [ARCH]   one "name=version" line each
Standard library only (build.sh runs it with the host's python3).
"""

import platform
import re
import sys

# Docker's architecture names -> Python's platform.machine(), what `platform_machine` markers test.
MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}


def requirement_names(path, machine=None):
    """Names of the direct requirements for a machine (default: this one), as written
    ('tensorflow[and-cuda]>=2' -> 'tensorflow'); a `; platform_machine == "..."` marker for
    another machine leaves its line out."""
    machine = MACHINES.get(machine, machine) or platform.machine()
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            marker = re.search(r";\s*platform_machine\s*==\s*[\"']([^\"']+)[\"']", line)
            if line and (not marker or marker.group(1) == machine):
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


def direct_pins(requirements_in, lock, machine=None):
    """{name as written: locked version or None} for each direct requirement of the machine."""
    pins = locked_versions(lock)
    return {name: pins.get(name.lower()) for name in requirement_names(requirements_in, machine)}


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[1] != "labels":
        sys.exit("usage: lock.py labels REQUIREMENTS.in LOCK.txt [ARCH]")
    for name, version in direct_pins(*sys.argv[2:5]).items():
        if version:
            print(f"{name}={version}")
