#!/usr/bin/env python3
"""Fail when a Dockerfile installs anything whose version does not come from a lock file.

    docker/harness/check-pins.py [DOCKERFILE ...]        (make lint; default: docker/Dockerfile)

Per RUN instruction (continuation lines joined, split into simple commands):
- pip / python -m pip / uv pip install: `--require-hashes` and `-r LOCK` only; a package named on
  the command line is unpinned, even with ==version (no hash). Only local wheels (*.whl) with both
  --no-index and --no-deps may be named: the repository's own package, built by the same build.
- apt-get / apt install: name=version arguments, or names fed by xargs from a file that a COPY of
  the same stage took from docker/requirements/apt-*.txt.
- docker/build's installers: apt-install LOCK... takes such COPYs of apt locks only; venv-install
  LOCK PLATFORM a COPY of a pip lock (it installs exactly the lock, by hash, with uv).
- npm ci: only with a package-lock.json (integrity hashes) copied in by the same stage.
- curl, wget, git clone, conda/mamba/npm/yarn/gem/cargo install, ADD <url>: not allowed at all.
And every lock it relies on: pip locks are name==version lines with --hash; apt locks name=version.
One line per problem, exit status 1; nothing printed and 0 when every install is pinned.
"""

import re
import shlex
import sys
from pathlib import Path

from dockerfile import instructions  # the same reading of a Dockerfile as build.sh's

REPO = Path(__file__).resolve().parents[2]
PIP_VALUE_OPTIONS = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--cache-dir",
    "--only-binary",
    "--no-binary",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--progress-bar",
    "--upgrade-strategy",
    "--python",
    "--cert",
}
FETCHERS = {"curl", "wget"}
INSTALLERS = {"conda", "mamba", "micromamba", "npm", "yarn", "gem", "cargo"}


def commands(shell):
    """The simple commands of a shell line, as token lists."""
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=";&|(){}")
    lexer.whitespace_split = True
    cmd, out = [], []
    for token in lexer:
        if token and set(token) <= set(";&|(){}"):
            if cmd:
                out.append(cmd)
            cmd = []
        else:
            cmd.append(token)
    return out + ([cmd] if cmd else [])


def pip_problem(args, copies):
    """What is unpinned in the arguments after `pip install`, or None."""
    named, locks, skip = [], [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in ("-r", "--requirement"):
            locks.append(args[i + 1] if i + 1 < len(args) else "")
            skip = True
        elif a.split("=", 1)[0] in PIP_VALUE_OPTIONS:
            skip = "=" not in a
        elif not a.startswith("-"):
            named.append(a)
    if named and all(n.endswith(".whl") for n in named) and {"--no-index", "--no-deps"} <= set(args):
        return None  # a wheel this build made (the repository's own package): nothing resolved or fetched
    if named:
        return f"pip installs {' '.join(named)} from the command line (not from a hash-pinned lock)"
    if not locks or "--require-hashes" not in args:
        return "pip install without both -r LOCK and --require-hashes"
    foreign = [lock for lock in locks if not copied_lock(lock, copies)]
    if foreign:
        return f"pip installs from {', '.join(foreign)}, not a COPY of a docker/requirements lock"
    return None


def is_lock(src, name):
    return re.fullmatch(r"docker/requirements/" + name, src) is not None


def copied_lock(path, copies):
    """True when a COPY of this stage put a docker/requirements pip lock at path: the file itself,
    or a folder of locks (COPY docker/requirements/${VARIANT}-*.txt /tmp/requirements/) that path
    names a file of ($VARIANT-$arch.txt: picked when the stage runs)."""
    if is_lock(copies.get(path, ""), r"[\w${}-]+\.txt"):
        return True
    folder, _, name = path.rpartition("/")
    return (
        bool(folder)
        and re.fullmatch(r"[\w$-]+\.txt", name) is not None
        and is_lock(copies.get(folder + "/", ""), r"[\w${}*-]+\.txt")
    )


def check_dockerfile(path):
    problems, copies = [], {}
    for n, keyword, args in instructions(Path(path).read_text()):
        where = f"{path}:{n}"
        if keyword == "FROM":
            copies = {}
        elif keyword in ("COPY", "ADD"):
            parts = [a for a in shlex.split(args) if not a.startswith("--")]
            if keyword == "ADD" and any(re.match(r"https?://|git@", a) for a in parts[:-1]):
                problems.append(f"{where}: ADD from a URL (no pinned version or hash)")
            for src in parts[:-1]:
                copies[parts[-1]] = src
                if parts[-1].endswith("/"):  # into a folder: the file keeps its name there
                    copies[parts[-1] + src.rsplit("/", 1)[-1]] = src
        elif keyword == "RUN":
            shell = re.sub(r"^(--\S+\s+)+", "", args)
            for cmd in commands(shell):
                problems += [f"{where}: {p}" for p in command_problems(cmd, shell, copies)]
    return problems


def command_problems(cmd, shell, copies):
    words, fed = list(cmd), False
    while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):  # VAR=value prefixes
        words.pop(0)
    if words[:1] == ["xargs"]:  # xargs [-a FILE] [-r ...] COMMAND: arguments come from a file or pipe
        words.pop(0)
        fed = True
        while words and words[0].startswith("-"):
            words = words[2:] if words[0] in ("-a", "--arg-file", "-d", "-n", "-P", "-L", "-I") else words[1:]
    if not words:
        return []
    prog = words[0].rsplit("/", 1)[-1]
    if prog in FETCHERS:
        return [f"{prog} downloads software outside the locks"]
    if prog == "git" and "clone" in words:
        return ["git clone fetches software outside the locks"]
    if prog in INSTALLERS and {"install", "add", "i"} & set(words[1:3]):
        return [f"{prog} install is not pinned by a lock"]
    if prog == "npm" and words[1:2] == ["ci"] and not any(src.endswith("package-lock.json") for src in copies.values()):
        return ["npm ci without a COPY of its package-lock.json (integrity hashes) in this stage"]
    if prog.startswith("python") and words[1:3] == ["-m", "pip"]:
        words, prog = words[2:], "pip"
    if prog == "uv" and words[1:2] == ["pip"]:
        words, prog = words[1:], "pip"
    if re.fullmatch(r"pip3?(\.\d+)?", prog) and "install" in words[1:2]:
        p = pip_problem(words[2:], copies)
        return [p] if p else []
    if prog == "apt-install":
        foreign = [w for w in words[1:] if not w.startswith("-") and not is_lock(copies.get(w, ""), r"apt-[\w-]+\.txt")]
        return (
            [f"apt-install from {', '.join(foreign)}, not a COPY of a docker/requirements/apt-*.txt lock"]
            if foreign or len(words) < 2
            else []
        )
    if prog == "venv-install":
        return (
            []
            if len(words) > 1 and copied_lock(words[1], copies)
            else [f"venv-install from {' '.join(words[1:2]) or 'nothing'}, not a COPY of a docker/requirements lock"]
        )
    if prog in ("apt-get", "apt") and "install" in words:
        names = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
        loose = [w for w in names if "=" not in w]
        if loose:
            return [f"{prog} install {' '.join(loose)} without =version"]
        if fed and not names:
            locks = [dest for dest, src in copies.items() if is_lock(src, r"apt-[\w-]+\.txt") and dest in shell]
            if not locks:
                return [f"{prog} install fed by xargs from no docker/requirements/apt-*.txt lock"]
        return []
    return []


def check_locks(folder):
    problems = []
    for lock in sorted(folder.glob("apt-*.txt")):
        for n, line in enumerate(lock.read_text().splitlines(), 1):
            if line.strip() and not line.startswith("#") and not re.fullmatch(r"[a-z0-9][a-z0-9+.-]*=\S+", line):
                problems.append(f"{lock}:{n}: not name=version: {line}")
    for lock in sorted(p for p in folder.glob("*.txt") if not p.name.startswith("apt-") and p.name != "locked-at.txt"):
        text = lock.read_text()
        for block in re.split(r"\n(?=[A-Za-z0-9])", text):
            first = block.split("\n", 1)[0]
            if not first or first.startswith(("#", " ", "-")):
                continue
            if not re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?==\S+", first) or "--hash=sha256:" not in block:
                problems.append(f"{lock}: {first.split()[0]} is not pinned with ==version and --hash")
    return problems


def main(argv):
    files = argv or [str(REPO / "docker" / "Dockerfile")]
    problems = [p for f in files for p in check_dockerfile(f)] + check_locks(REPO / "docker" / "requirements")
    for p in problems:
        print(f"check-pins: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
