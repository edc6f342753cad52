#!/usr/bin/env python3
"""Do two builds of the same commit agree? Builds the image twice from nothing and compares.

    python3 bench/bench_reproducible.py [--variant cpu] [--keep DIR]     (make bench-reproducible)
    python3 bench/bench_reproducible.py --arm64-emulated

--arm64-emulated: the linux/arm64 venv is made on the build machine (uv installs the aarch64 wheels);
this makes the same stage again the slow way, under qemu as if the build machine were arm64, and
compares the two (path, mode, sha256 of every file of /opt/venv).

1. `docker builder prune -af`, then a build with --no-cache: every layer and download anew;
2. the same again;
3. compares `dl-versions --manifest` of the two (every file under /opt/venv, /opt/assets and
   /usr/local: mode, owner, sha256) and the layer digests (diff IDs), each named by the
   instruction that made it; prints the table and what differs, writes bench/results/reproducible-*.json.
Takes the two images' full build time; both are tagged IMAGE:VARIANT-repro-a / -b (removed after).
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("IMAGE", "rucka/deeplearning")


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def build(variant, tag):
    sh("docker", "builder", "prune", "-af")
    start = time.monotonic()
    env = {**os.environ, "EXTRA_BUILD_ARGS": "--no-cache"}
    subprocess.run(
        [str(REPO / "docker/harness/build.sh"), variant, IMAGE],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - start
    sh("docker", "tag", f"{IMAGE}:{variant}", tag)
    return seconds


def layers(tag):
    """[(diff ID, instruction)] of an image, base first. `docker history` shows the instructions
    that made no layer (ENV, LABEL...) as 0B, as WORKDIR that made one (counted)."""
    ids = json.loads(sh("docker", "image", "inspect", tag))[0]["RootFS"]["Layers"]
    history = [
        json.loads(line) for line in sh("docker", "history", "--no-trunc", "--format", "{{json .}}", tag).splitlines()
    ]
    made = [h["CreatedBy"] for h in reversed(history) if h["Size"] != "0B" or h["CreatedBy"].startswith("WORKDIR")]
    made = (["(base)"] * (len(ids) - len(made)) + made)[-len(ids) :]
    return list(zip(ids, made))


class Hashing:
    """A read-only stream that hashes what is read through it (a layer's diff ID)."""

    def __init__(self, raw):
        self.raw, self.sha = raw, hashlib.sha256()

    def read(self, n=-1):
        data = self.raw.read(n)
        self.sha.update(data)
        return data


def layer_headers(tag, wanted):
    """{diff ID: {path: (mtime, mode, uid, gid, size, link, pax headers, content sha256, place)}} of the wanted layers, read off
    `docker save` (a layer's diff ID is the sha256 of its layer.tar)."""
    out = {}
    save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=save.stdout, mode="r|") as outer:
        for member in outer:
            if not member.name.endswith("layer.tar"):
                continue
            stream = Hashing(outer.extractfile(member))
            headers = {}
            with tarfile.open(fileobj=stream, mode="r|") as layer:
                for m in layer:
                    content = hashlib.sha256(layer.extractfile(m).read()).hexdigest() if m.isreg() else ""
                    headers[m.name] = (
                        m.mtime,
                        m.mode,
                        m.uid,
                        m.gid,
                        m.size,
                        m.linkname,
                        tuple(sorted(m.pax_headers.items())),
                        content,
                        len(headers),
                    )
            while stream.read(1 << 20):
                pass
            diff_id = "sha256:" + stream.sha.hexdigest()
            if diff_id in wanted:
                out[diff_id] = headers
    save.wait()
    return out


def why(a, b):
    """What tells two layers' entries apart, in a few words."""
    fields = ("mtime", "mode", "uid", "gid", "size", "link", "pax headers", "content", "place")
    only = sorted(set(a) ^ set(b))
    counts = {f: [p for p in set(a) & set(b) if a[p][i] != b[p][i]] for i, f in enumerate(fields)}
    said = [f"{len(v)} {f} ({', '.join(sorted(v)[:3])})" for f, v in counts.items() if v]
    if only:
        said.append(f"{len(only)} in one only ({', '.join(only[:3])})")
    return "; ".join(said) or "same entries (order or content)"


def manifest(tag):
    out = sh("docker", "run", "--rm", "--network", "none", "--user", "0", tag, "dl-versions", "--manifest")
    return {line.split("\t")[3]: line for line in out.splitlines()}


def short(instruction):
    text = " ".join(instruction.replace("|", " ").split())
    for prefix in ("/bin/bash -o pipefail -c ", "/bin/sh -c "):
        text = text.replace(prefix, "")
    return text[:90]


def venv_stage(variant, emulated):
    """{path: "mode<TAB>sha256"} of /opt/venv as the Dockerfile's venv-arm64 stage makes it: on the
    build machine, or under emulation as if the build machine were arm64; and the seconds it took."""
    args = [
        "docker",
        "build",
        "-f",
        str(REPO / "docker/Dockerfile"),
        "--platform",
        "linux/arm64",
        "--target",
        "venv-arm64",
        "--build-arg",
        f"VARIANT={variant}",
        "--output",
        "type=tar,dest=-",
    ]
    native = sh("docker", "version", "-f", "{{.Server.Arch}}").strip()
    for arch, wanted in ((native, not emulated), ("arm64", emulated)):
        if wanted:
            base = f"local/debian:bookworm-slim-{arch}"
            if sh("docker", "image", "ls", "-q", base).strip() == "":
                base = sh("python3", str(REPO / "docker/harness/dockerfile.py"), "arg", "BASE_IMAGE").strip()
            args += ["--build-arg", f"BUILD_BASE_IMAGE={base}"] + (
                ["--build-arg", "BUILDPLATFORM=linux/arm64"] if emulated else []
            )
    if os.environ.get("CA_BUNDLE"):
        args += ["--secret", f"id=ca,src={os.environ['CA_BUNDLE']}"]
    start = time.monotonic()
    build = subprocess.Popen(
        args + [str(REPO)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    out = {}
    with tarfile.open(fileobj=build.stdout, mode="r|") as tar:
        for m in tar:
            if m.name.startswith("opt/venv"):
                what = (
                    "-> " + m.linkname
                    if m.issym()
                    else hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                    if m.isreg()
                    else "-"
                )
                kind = {tarfile.DIRTYPE: 0o40000, tarfile.SYMTYPE: 0o120000}.get(m.type, 0o100000)
                out["/" + m.name.rstrip("/")] = f"{m.mode | kind:o}\t{what}"
    if build.wait():
        sys.exit(f"the {'emulated' if emulated else 'native'} build of venv-arm64 failed")
    return out, time.monotonic() - start


def compare_emulated(variant):
    native, native_s = venv_stage(variant, emulated=False)
    emulated, emulated_s = venv_stage(variant, emulated=True)
    differ = sorted(p for p in set(native) | set(emulated) if native.get(p) != emulated.get(p))
    print(
        f"/opt/venv of the venv-arm64 stage, made on the build machine ({native_s:.0f} s) and under "
        f"emulation ({emulated_s:.0f} s; both perhaps cached): {len(native)} and {len(emulated)} entries "
        f"(path, mode, sha256); differing: {len(differ)}"
    )
    for p in differ[:20]:
        print(f"  {p}: {native.get(p, '(absent)')} | {emulated.get(p, '(absent)')}")
    return 1 if differ else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="cpu")
    parser.add_argument("--keep", help="write both manifests into this folder")
    parser.add_argument("--arm64-emulated", action="store_true", help="compare the arm64 venv with one made under qemu")
    args = parser.parse_args()
    if args.arm64_emulated:
        return compare_emulated(args.variant)
    tags = [f"{IMAGE}:{args.variant}-repro-{x}" for x in "ab"]
    seconds = [build(args.variant, t) for t in tags]
    manifests = [manifest(t) for t in tags]
    if args.keep:
        for t, m in zip("ab", manifests):
            Path(args.keep, f"manifest-{t}.txt").write_text("\n".join(m[p] for p in sorted(m)) + "\n")
    a, b = manifests
    differ = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
    la, lb = layers(tags[0]), layers(tags[1])
    print(
        f"two no-cache builds of {IMAGE}:{args.variant} at {sh('git', '-C', str(REPO), 'rev-parse', '--short=12', 'HEAD').strip()}"
        f": {seconds[0]:.0f} s and {seconds[1]:.0f} s"
    )
    print(f"manifest: {len(a)} and {len(b)} entries; differing: {len(differ)}")
    for p in differ[:20]:
        print(f"  {a.get(p, '(absent)')}\n  {b.get(p, '(absent)')}")
    same = 0
    wanted_a = {x for (x, _), (y, _) in zip(la, lb) if x != y}
    ha = layer_headers(tags[0], wanted_a)
    hb = layer_headers(tags[1], {y for (x, _), (y, _) in zip(la, lb) if x != y})
    print(f"\n{'layer':<6} {'same':<5} instruction")
    for n, ((ida, what), (idb, _)) in enumerate(zip(la, lb)):
        same += ida == idb
        print(f"{n:<6} {'yes' if ida == idb else 'NO':<5} {short(what)}")
        if ida != idb and ida in ha and idb in hb:
            print(f"{'':12} differs by: {why(ha[ida], hb[idb])}")
    print(f"\nlayers: {same} of {len(la)} identical")
    results = {
        "seconds": seconds,
        "manifest_entries": [len(a), len(b)],
        "manifest_differing": differ,
        "layers": [{"instruction": short(w), "same": x == y} for (x, w), (y, _) in zip(la, lb)],
    }
    (REPO / "bench" / "results" / f"reproducible-{args.variant}.json").write_text(json.dumps(results, indent=2) + "\n")
    for t in tags:
        sh("docker", "rmi", t)
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
