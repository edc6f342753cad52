"""The shipped deployments, read as their tools read them (no cluster here): the classroom hub's
compose file (docker compose config) and the Zero-to-JupyterHub values (YAML). The hub itself
runs in tests/hub (make test-hub)."""

import json
import os
import re
import subprocess

import yaml
from support.containers import REPO

HUB = REPO / "deploy" / "jupyterhub"
VALUES = yaml.safe_load((REPO / "deploy" / "kubernetes" / "values.yaml").read_text())


def hub_compose(**env):
    return subprocess.run(
        ["docker", "compose", "-f", str(HUB / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def test_the_hub_needs_its_admins_named_and_listens_on_loopback():
    refused = hub_compose(HUB_ADMINS="")
    assert refused.returncode != 0 and "set HUB_ADMINS" in refused.stderr
    hub = json.loads(hub_compose(HUB_ADMINS="teacher").stdout)["services"]["jupyterhub"]
    assert [p["host_ip"] for p in hub["ports"]] == ["127.0.0.1"]
    assert {v["target"] for v in hub["volumes"]} == {"/var/run/docker.sock", "/srv/jupyterhub"}
    assert hub["environment"]["DL_IMAGE"] == "rucka/deeplearning:cpu"


def test_no_secret_is_written_in_the_deployments():
    for path in [*HUB.iterdir(), REPO / "deploy" / "kubernetes" / "values.yaml"]:
        if path.is_file():
            text = path.read_text()
            assert not re.search(
                r"(secretToken|cookie_secret|api_token|CONFIGPROXY_AUTH_TOKEN|crypt_key)\s*[:=]\s*\S", text
            ), path
            assert not re.search(r"DummyAuthenticator|\"dummy\"|password\s*[:=]", text), path


def test_kubernetes_values_run_the_image_as_the_hub_on_one_vm_does():
    single = VALUES["singleuser"]
    assert (single["image"]["name"], single["image"]["tag"]) == ("rucka/deeplearning", "cpu")
    assert single["cmd"] == "start-singleuser.py" and single["storage"]["homeMountPath"] == "/home/jovyan"
    assert (single["uid"], single["fsGid"]) == (1000, 100)
    # The same per-user limit as the one-VM hub's default (DL_MEM_LIMIT, DL_CPU_LIMIT), a smaller guarantee.
    config = (HUB / "jupyterhub_config.py").read_text()
    assert f'"DL_MEM_LIMIT", "{single["memory"]["limit"]}"' in config
    assert f'"DL_CPU_LIMIT", "{single["cpu"]["limit"]}"' in config
    assert single["memory"]["guarantee"] == "1G" and single["cpu"]["guarantee"] < single["cpu"]["limit"]
    assert VALUES["prePuller"]["hook"]["enabled"] and VALUES["prePuller"]["continuous"]["enabled"]
    assert VALUES["cull"]["enabled"] and VALUES["cull"]["timeout"] == 3600
    assert VALUES["hub"]["config"]["JupyterHub"]["authenticator_class"] == "firstuseauthenticator.FirstUseAuthenticator"
    assert VALUES["hub"]["config"]["FirstUseAuthenticator"]["create_users"] is False
