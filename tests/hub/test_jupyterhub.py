"""The classroom hub as shipped (deploy/jupyterhub: JupyterHub, DockerSpawner, configurable-http-proxy,
FirstUseAuthenticator, the idle culler), run with docker compose on 127.0.0.1: users log in, the
hub spawns the image for each, code runs in their kernels through the proxy, and nobody gets in
or across where they should not. Prints the figures the README reports (hub start, spawn time
per user, memory per idle user)."""

import json
import os
import re
import secrets
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import websocket
from support.containers import IMAGE, REPO, docker, wait_for

COMPOSE = REPO / "deploy" / "jupyterhub" / "docker-compose.yml"
PASSWORDS = {"teacher": secrets.token_hex(8), "ada": secrets.token_hex(8), "alan": secrets.token_hex(8)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hub():
    name = f"dlhubtest{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": name,
        "HUB_ADMINS": "teacher",
        "HUB_USERS": "ada,alan",
        "DL_IMAGE": IMAGE,
        "DL_NETWORK": name,
        "DL_PREFIX": f"{name}-",
        "HUB_PORT": str(port),
        "HUB_IMAGE": os.environ.get("HUB_IMAGE", "rucka/deeplearning-hub:latest"),
    }
    compose = ["docker", "compose", "-f", str(COMPOSE)]
    t = time.monotonic()
    subprocess.run(compose + ["up", "-d", "--no-build"], env=env, check=True, capture_output=True, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ok(url + "/hub/health"), 120, what="the hub")
        print(f"\nhub start (compose up to /hub/health): {time.monotonic() - t:.1f} s")
        yield {"url": url, "name": name}
    finally:
        logs = subprocess.run(compose + ["logs"], env=env, capture_output=True, text=True).stdout
        subprocess.run(compose + ["down", "-v"], env=env, capture_output=True)
        for kind in ("container", "volume"):
            left = docker(
                kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter", f"name={name}-"
            ).stdout.split()
            if left:
                docker(kind, "rm", "-f" if kind == "container" else "-f", *left, check=False)
        Path(f"/tmp/{name}.log").write_text(logs)


def ok(url):
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def login(hub, user, password):
    """A browser's session after the login form, or None when the hub refused."""
    s = requests.Session()
    s.get(hub["url"] + "/hub/login", timeout=10)
    r = s.post(
        hub["url"] + "/hub/login",
        data={"username": user, "password": password, "_xsrf": s.cookies.get("_xsrf", "")},
        allow_redirects=False,
        timeout=30,
    )
    return s if r.status_code == 302 and "jupyterhub-hub-login" in s.cookies else None


def token_for(hub, session, user):
    r = session.post(
        f"{hub['url']}/hub/api/users/{user}/tokens",
        json={"note": "test"},
        headers={"X-XSRFToken": session.cookies.get("_xsrf", "")},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()["token"]


@pytest.fixture(scope="module")
def users(hub):
    """teacher, ada and alan logged in (first login sets each password), each with an API token."""
    out = {}
    for user, password in PASSWORDS.items():
        s = login(hub, user, password)
        assert s is not None, f"{user} could not log in"
        out[user] = {"session": s, "token": token_for(hub, s, user)}
    return out


def api(hub, token, method, path, **kw):
    return requests.request(method, hub["url"] + path, headers={"Authorization": f"token {token}"}, timeout=60, **kw)


def spawn(hub, user, token):
    t = time.monotonic()
    r = api(hub, token, "POST", f"/hub/api/users/{user}/server")
    assert r.status_code in (201, 202), r.text
    wait_for(
        lambda: api(hub, token, "GET", f"/hub/api/users/{user}").json()["servers"].get("", {}).get("ready"),
        240,
        interval=0.5,
        what=f"{user}'s server",
    )
    return time.monotonic() - t


@pytest.fixture(scope="module")
def servers(hub, users):
    """ada's and alan's servers, spawned at the same time."""
    with ThreadPoolExecutor(2) as pool:
        seconds = dict(zip(("ada", "alan"), pool.map(lambda u: spawn(hub, u, users[u]["token"]), ("ada", "alan"))))
    print("\nspawn, two users at once: " + ", ".join(f"{u} {s:.1f} s" for u, s in seconds.items()))
    return seconds


def run_code(hub, user, token, code):
    """Run code in a new kernel of user's server, through the hub's proxy; return its stdout."""
    base = f"/user/{user}/api/kernels"
    r = api(hub, token, "POST", base, json={"name": "python3"})
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    ws = websocket.create_connection(
        f"{hub['url'].replace('http', 'ws', 1)}{base}/{kernel}/channels",
        header=[f"Authorization: token {token}"],
        timeout=120,
    )
    try:
        from support.jupyter_load import execute

        out, error = execute(ws, code, timeout=120)
        assert error is None, error
        return out
    finally:
        ws.close()
        api(hub, token, "DELETE", f"{base}/{kernel}")


def test_each_user_runs_code_in_their_own_container_through_the_proxy(hub, users, servers):
    for user in ("ada", "alan"):
        out = run_code(
            hub,
            user,
            users[user]["token"],
            "import getpass, os, socket, keras; print(os.environ['JUPYTERHUB_USER'], getpass.getuser(), "
            "socket.gethostname() != '', keras.backend.backend(), sorted(os.listdir('/home/jovyan/work/examples'))[0])",
        )
        assert out.split() == [user, "jovyan", "True", "tensorflow", "00_deep_learning_in_5_steps.ipynb"]


def test_each_server_has_its_limits_and_its_own_home_volume(hub, servers):
    for user in ("ada", "alan"):
        info = json.loads(docker("inspect", f"{hub['name']}-{user}").stdout)[0]
        assert info["Config"]["Image"] == IMAGE
        host = info["HostConfig"]
        assert host["Memory"] == 3 * 1024**3 and host["CpuQuota"] / host["CpuPeriod"] == 2  # 3G, 2 CPUs
        mounts = {m["Destination"]: m for m in info["Mounts"]}
        assert mounts["/home/jovyan"]["Name"] == f"{hub['name']}-{user}-home"


def test_a_wrong_password_and_an_unknown_name_are_refused(hub, users):
    assert login(hub, "ada", "not-" + PASSWORDS["ada"]) is None
    assert login(hub, "mallory", "whatever-password") is None
    assert login(hub, "ada", PASSWORDS["ada"]) is not None


def test_one_user_cannot_reach_another_s_server(hub, users, servers):
    ada = users["ada"]["token"]
    r = api(hub, ada, "GET", "/user/alan/api/status", allow_redirects=False)
    assert r.status_code in (302, 403), r.status_code
    assert api(hub, ada, "GET", "/user/ada/api/status").status_code == 200
    # ada's browser session, too: alan's server sends her away (to the hub's login/oauth), never in.
    r = users["ada"]["session"].get(hub["url"] + "/user/alan/api/contents", allow_redirects=True, timeout=60)
    assert r.status_code in (403, 404) or "/hub/" in r.url
    assert api(hub, ada, "POST", "/hub/api/users/alan/server").status_code in (
        403,
        404,
    )  # 404: alan is not even visible


def test_the_idle_culler_runs_and_the_secrets_were_generated(hub, users):
    services = api(hub, users["teacher"]["token"], "GET", "/hub/api/services").json()
    assert services["idle-culler"]["pid"] > 0
    container = f"{hub['name']}-jupyterhub-1"
    p = docker("exec", container, "stat", "-c", "%a", "/srv/jupyterhub/jupyterhub_cookie_secret")
    assert p.stdout.strip() == "600"
    env = docker("inspect", "-f", "{{json .Config.Env}}", container).stdout
    assert "CONFIGPROXY_AUTH_TOKEN" not in env and "JUPYTERHUB_CRYPT_KEY" not in env
    assert not re.search(
        r"(token|secret)\s*=\s*['\"][0-9a-f]{16,}", (COMPOSE.parent / "jupyterhub_config.py").read_text()
    )


def test_an_idle_user_stays_within_the_memory_guarantee(hub, servers):
    """An idle server (its kernels shut) uses less than the 1 GiB deploy/kubernetes guarantees a user."""
    time.sleep(5)
    used = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", f"{hub['name']}-ada").stdout.split()[0]
    mib = float(used[:-3]) * (1024 if used.endswith("GiB") else 1)
    print(f"\nmemory of an idle user's server: {mib:.0f} MiB")
    assert 20 < mib < 1024
