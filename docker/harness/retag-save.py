#!/usr/bin/env python3
"""Rename the image of a `docker save` stream:  docker save SRC | retag-save.py NAME:TAG... > out.tar

The archive's layers and config pass through untouched; only its name records change
(manifest.json's RepoTags, the legacy `repositories` file, and index.json's name annotations from
newer engines), so that `docker load` gives the image the names users type (rucka/deeplearning:cpu)
whatever it was called here (rucka/deeplearning:cpu-arm64). Standard library only.
"""

import io
import json
import sys
import tarfile

NAME_KEYS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


def qualified(tag):
    """rucka/deeplearning:cpu -> docker.io/rucka/deeplearning:cpu, as engines name what they load."""
    first = tag.split("/", 1)[0]
    if "/" not in tag:
        return "docker.io/library/" + tag
    return tag if "." in first or ":" in first or first == "localhost" else "docker.io/" + tag


def renamed(name, data, tags):
    doc = json.loads(data)
    if name == "manifest.json":
        if len(doc) != 1:
            sys.exit("retag-save.py: error: the archive holds more than one image")
        doc[0]["RepoTags"] = tags
    elif name == "repositories":
        image_id = next(iter(next(iter(doc.values())).values()))
        doc = {}
        for t in tags:
            repo, tag = t.rsplit(":", 1)
            doc.setdefault(repo, {})[tag] = image_id
    elif name == "index.json":
        first = doc["manifests"][0]
        doc["manifests"] = [
            {
                **first,
                "annotations": {
                    **first.get("annotations", {}),
                    NAME_KEYS[0]: qualified(t),
                    NAME_KEYS[1]: t.rsplit(":", 1)[1],
                },
            }
            for t in tags
        ]
    return json.dumps(doc).encode()


def main(tags):
    if not tags or any(":" not in t for t in tags):
        sys.exit("usage: docker save SRC | retag-save.py NAME:TAG... > out.tar")
    with (
        tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as src,
        tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as out,
    ):
        for member in src:
            if member.isfile() and member.name in ("manifest.json", "repositories", "index.json"):
                data = renamed(member.name, src.extractfile(member).read(), tags)
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))
            else:
                out.addfile(member, src.extractfile(member) if member.isfile() else None)


if __name__ == "__main__":
    main(sys.argv[1:])
