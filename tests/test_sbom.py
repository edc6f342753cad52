"""What is inside, said in a standard form: the image's CycloneDX SBOM is valid, and it lists exactly
the lock's Python packages, the image's Debian packages and its assets."""

import hashlib
import json
import re

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from support.containers import LOCK, run

pytestmark = pytest.mark.smoke

PATH = "/usr/local/share/deeplearning/sbom.cdx.json"


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def sbom_text(image):
    p = run("--network", "none", command=["dl-versions", "--sbom"])
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def sbom(sbom_text):
    return json.loads(sbom_text)


def components(sbom, purl_type):
    return [
        c
        for c in sbom["components"]
        if c.get("purl", "").startswith(f"pkg:{purl_type}/") and not c["bom-ref"].startswith("asset:")
    ]


def test_it_is_valid_cyclonedx(sbom_text, sbom):
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom_text) is None
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"


def test_it_is_the_file_the_labels_name(image, sbom_text):
    labels = image["Config"]["Labels"]
    assert labels["io.github.rucka.deeplearning.sbom"] == PATH
    assert labels["io.github.rucka.deeplearning.sbom.sha256"] == hashlib.sha256(sbom_text.encode()).hexdigest()


def test_the_image_itself_its_revision_and_base(image, sbom):
    facts = {p["name"].rsplit(":", 1)[1]: p["value"] for p in sbom["metadata"]["component"]["properties"]}
    labels = image["Config"]["Labels"]
    assert facts["git-revision"] == labels["org.opencontainers.image.revision"]
    assert facts["platform"] == f"{image['Os']}/{image['Architecture']}"
    assert facts["variant"] == labels["io.github.rucka.deeplearning.variant"]
    assert facts["base-image-id"].startswith("sha256:") and facts["base-image"]


def test_its_python_packages_are_the_lock_s_pins_each_with_the_lock_s_hash(sbom):
    text = LOCK.read_text()
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if m:
            pins[normalise(m.group(1))] = (m.group(2), set(re.findall(r"sha256:([0-9a-f]{64})", block)))
    python = components(sbom, "pypi")
    assert {normalise(c["name"]): c["version"] for c in python} == {n: v for n, (v, _) in pins.items()}
    for c in python:
        hashes = [h["content"] for h in c["hashes"] if h["alg"] == "SHA-256"]
        assert len(hashes) == 1 and hashes[0] in pins[normalise(c["name"])][1], c["name"]
        purl = PackageURL.from_string(c["purl"])
        assert (purl.type, purl.name, purl.version) == ("pypi", normalise(c["name"]), c["version"])
    assert sum(1 for c in python if c.get("licenses")) > len(python) * 0.8


def test_the_image_s_own_library_is_named_as_built_from_the_repository(sbom):
    """dlkit is not on PyPI: no pkg:pypi purl a scanner could match to someone else's project."""
    facts = {p["name"].rsplit(":", 1)[-1]: p["value"] for p in sbom["metadata"]["component"]["properties"]}
    own = [c for c in sbom["components"] if c["name"] == "dlkit"]
    assert len(own) == 1 and "purl" not in own[0]
    props = {p["name"].rsplit(":", 1)[-1]: p["value"] for p in own[0].get("properties", [])}
    assert props["built-from"] == f"src/ at git revision {facts['git-revision']}"


def test_its_debian_packages_are_dpkg_s_list(sbom):
    p = run("--network", "none", command=["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"])
    assert p.returncode == 0, p.stderr
    installed = dict(line.split("\t") for line in p.stdout.splitlines())
    debian = components(sbom, "deb")
    assert {c["name"]: c["version"] for c in debian} == installed
    for c in debian:
        purl = PackageURL.from_string(c["purl"])
        assert (purl.type, purl.namespace, purl.name, purl.version) == ("deb", "debian", c["name"], c["version"])


def test_its_assets_are_dl_assets_list_with_the_manifest_s_hashes(sbom, assets):
    p = run("--network", "none", command=["dl-assets", "list"])
    listed = {line.split()[0] for line in p.stdout.splitlines()[1:] if " installed " in line}
    baked = {c["name"]: c for c in sbom["components"] if c["bom-ref"].startswith("asset:")}
    assert set(baked) == listed == set(assets["assets"])
    for name, c in baked.items():
        entry = assets["assets"][name]
        assert {h["alg"]: h["content"] for h in c.get("hashes", [])} == {
            alg: entry[key] for key, alg in (("sha256", "SHA-256"), ("md5", "MD5")) if key in entry
        }
        assert c["licenses"][0]["license"]["id"] == entry["license"]
        assert c["type"] in ("machine-learning-model", "data")
