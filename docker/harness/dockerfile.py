#!/usr/bin/env python3
"""Read a Dockerfile as Docker does: instructions with their continuation lines joined.

    dockerfile.py arg NAME [DOCKERFILE]     print the default of `ARG NAME=...` (the first one)

Used by check-pins.py (every install pinned) and build.sh (the pinned base image reference, read
from the Dockerfile where it is set, so that `docker build` alone and `make build` agree).
"""

import shlex
import sys
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def instructions(text):
    """(line number, keyword, arguments) of a Dockerfile, continuation lines joined."""
    out, buf, start = [], "", 0
    for n, line in enumerate(text.splitlines(), 1):
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        start = start or n
        buf += line.rstrip()[:-1] + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            keyword, _, args = buf.strip().partition(" ")
            out.append((start, keyword.upper(), args.strip()))
            buf, start = "", 0
    return out


def arg_default(name, path=DOCKERFILE):
    """The default value of the first `ARG name=value` of the Dockerfile, or None."""
    for _, keyword, args in instructions(Path(path).read_text()):
        if keyword == "ARG":
            key, eq, value = args.partition("=")
            if key.strip() == name and eq:
                return shlex.split(value)[0] if value.strip() else ""
    return None


def main(argv):
    if len(argv) not in (2, 3) or argv[0] != "arg":
        sys.exit("usage: dockerfile.py arg NAME [DOCKERFILE]")
    value = arg_default(argv[1], *argv[2:])
    if value is None:
        sys.exit(f"dockerfile.py: error: no ARG {argv[1]}=... in {argv[2] if len(argv) > 2 else DOCKERFILE}")
    print(value)


if __name__ == "__main__":
    main(sys.argv[1:])
