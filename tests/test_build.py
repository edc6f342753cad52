"""How the image was built: the proxy CA stayed out, the compose file is safe by default."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.containers import IMAGE, REPO, WORKDIR, docker

BEGIN, END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def certificates(pem_text):
    """The base64 bodies of the certificates in a PEM bundle, one string each."""
    certs, body = [], None
    for line in pem_text.splitlines():
        line = line.strip()
        if line == BEGIN:
            body = []
        elif line == END and body is not None:
            certs.append("".join(body))
            body = None
        elif body is not None:
            body.append(line)
    return certs


def test_the_ca_bundle_given_as_secret_is_in_no_layer(host):
    bundle = os.environ.get("CA_BUNDLE")
    if not bundle:
        pytest.skip("the image was built without CA_BUNDLE: there is no secret to look for")
    # The public CAs the image ships itself: Debian's bundle, certifi's, pip's vendored certifi.
    shipped = host.check_output(
        "cat /etc/ssl/certs/ca-certificates.crt $(python -m certifi) "
        "/opt/venv/lib/python3*/site-packages/pip/_vendor/certifi/cacert.pem"
    )
    image_certs = set(certificates(shipped))
    # What only the secret had: the proxy's CA, which no bundle in the image ships.
    secret_only = [c for c in certificates(Path(bundle).read_text()) if c not in image_certs]
    if not secret_only:
        pytest.skip(f"{bundle} holds no certificate beyond Debian's bundle: nothing to tell apart")
    # docker save holds every layer, files later deleted included; 64 base64 chars of each cert.
    needles = [c[64:128].encode() for c in secret_only]
    save = subprocess.Popen(["docker", "save", IMAGE], stdout=subprocess.PIPE)
    found, tail = set(), b""
    while chunk := save.stdout.read(1 << 22):
        window = tail + chunk
        found |= {n for n in needles if n in window}
        tail = window[-128:]
    assert save.wait() == 0
    assert found == set()
    assert not host.file("/run/secrets/ca").exists
    history = docker("history", "--no-trunc", IMAGE).stdout
    assert "BEGIN CERTIFICATE" not in history and bundle not in history


def compose_config(env):
    p = subprocess.run(
        ["docker", "compose", "-f", str(REPO / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return json.loads(p.stdout)


def test_compose_publishes_on_loopback_only_by_default():
    services = compose_config({})["services"]
    assert set(services) >= {"jupyter", "tensorboard"}
    for name in ("jupyter", "tensorboard"):
        for port in services[name]["ports"]:
            assert port["host_ip"] == "127.0.0.1", (name, port)


def test_compose_mounts_data_and_models():
    jupyter = compose_config({})["services"]["jupyter"]
    targets = {v["target"] for v in jupyter["volumes"]}
    assert {f"{WORKDIR}/data", f"{WORKDIR}/models"} <= targets


def test_compose_gpu_profile_reserves_nvidia_devices():
    p = subprocess.run(
        ["docker", "compose", "-f", str(REPO / "docker-compose.yml"), "--profile", "gpu", "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    gpu = json.loads(p.stdout)["services"]["jupyter-gpu"]
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert gpu["image"].endswith(":cuda")
    assert all(port["host_ip"] == "127.0.0.1" for port in gpu["ports"])


def test_a_host_behind_an_intercepting_proxy_is_recognised():
    """build.sh without CA_BUNDLE asks docker/harness/proxy-ca.sh: the host's bundle when the public CA
    list (certifi: what pip in the image trusts) fails on PyPI where the host's own trust succeeds."""
    import ssl
    import urllib.error
    import urllib.request

    import certifi

    def verifies(cafile):
        try:
            urllib.request.urlopen(
                "https://pypi.org/simple/pip/", timeout=10, context=ssl.create_default_context(cafile=cafile)
            ).close()
            return True
        except urllib.error.URLError as e:
            if not isinstance(e.reason, ssl.SSLCertVerificationError):
                pytest.skip(f"PyPI does not answer from here ({e.reason}): nothing to tell apart")
            return False

    host = ssl.get_default_verify_paths()
    host = os.environ.get("SSL_CERT_FILE") or host.cafile or host.openssl_cafile
    intercepted = not verifies(certifi.where()) and verifies(host)
    p = subprocess.run([str(REPO / "docker" / "harness" / "proxy-ca.sh")], capture_output=True, text=True)
    assert p.returncode == 0
    if intercepted:  # this machine's case: an HTTPS-intercepting proxy whose CA only the host trusts
        assert p.stdout.strip() == host
        assert "intercepting proxy" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    else:
        assert p.stdout == "" and p.stderr == ""
