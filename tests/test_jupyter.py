"""JupyterLab, the default command: token auth, health, a working kernel."""

import json
import re
import time

import pytest
import websocket
from support.containers import http_get, running, wait_for
from support.jupyter_load import execute


def test_api_answers_with_the_token(lab, token):
    status, body = http_get(lab.url(8888, "/api/status"), token)
    assert status == 200
    assert "started" in json.loads(body)


@pytest.mark.parametrize(
    "path", ["/api/contents", "/api/kernels", "/api/sessions", "/api/terminals", "/api/contents/examples/README.md"]
)
def test_no_access_without_the_token(lab, path):
    status, _ = http_get(lab.url(8888, path))
    assert status == 403


def test_a_wrong_token_is_refused(lab):
    status, _ = http_get(lab.url(8888, "/api/contents"), "not-the-token")
    assert status == 403


def test_the_workdir_is_the_jupyter_root(lab, token):
    status, body = http_get(lab.url(8888, "/api/contents"), token)
    assert status == 200
    names = {item["name"] for item in json.loads(body)["content"]}
    assert {"examples", "data", "models"} <= names


def test_a_kernel_runs_code_through_the_server_and_only_with_the_token(lab, token):
    status, body = http_get(lab.url(8888, "/api/kernels"), token, method="POST")
    assert status == 201
    kernel = json.loads(body)
    assert kernel["name"] == "python3"
    ws_url = lab.url(8888, f"/api/kernels/{kernel['id']}/channels").replace("http", "ws", 1)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url, timeout=10)
    assert refused.value.status_code == 403
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=60)
    try:
        out, error = execute(ws, "import sys, keras; print(6 * 7, sys.prefix, keras.backend.backend())")
        assert error is None, error
    finally:
        ws.close()
        http_get(lab.url(8888, f"/api/kernels/{kernel['id']}"), token, method="DELETE")
    assert out.split() == ["42", "/opt/venv", "tensorflow"]


def test_healthcheck_reports_jupyter(lab):
    log = lab.inspect()["State"]["Health"]["Log"]
    assert log and log[-1]["ExitCode"] == 0
    assert "jupyter:ok" in log[-1]["Output"]


def test_log_has_no_errors(lab):
    bad = [line for line in lab.logs().splitlines() if re.search(r"\[(E|C) |Traceback|ERROR|CRITICAL", line)]
    assert bad == []


def test_becomes_healthy_and_prints_a_random_token_when_none_is_given():
    with running("-p", "127.0.0.1::8888") as c:
        t = time.monotonic()
        c.wait_healthy(timeout=60)
        print(f"run to healthy: {time.monotonic() - t:.1f} s")
        m = wait_for(lambda: re.search(r"\?token=([0-9a-f]{32,})", c.logs()), 10, what="token in log")
        token = m.group(1)
        assert http_get(c.url(8888, "/api/contents"), token)[0] == 200
        assert http_get(c.url(8888, "/api/contents"))[0] == 403


def test_an_empty_token_still_requires_one():
    with running("-p", "127.0.0.1::8888", "-e", "JUPYTER_TOKEN=") as c:
        c.wait_healthy(timeout=60)
        assert http_get(c.url(8888, "/api/contents"))[0] == 403


def test_healthcheck_fails_when_jupyter_stops_answering(lab):
    # Same check, pointed at a port where nothing listens: the script must say "down".
    p = lab.exec("env", "JUPYTER_PORT=1", "JUPYTER_RUNTIME_DIR=/nonexistent", "healthcheck.py")
    assert p.returncode == 1 and "jupyter:down" in p.stdout


def test_a_container_running_a_script_is_healthy():
    with running(command=["sleep", "60"]) as c:
        p = c.exec("healthcheck.py")
        assert p.returncode == 0 and "no server to check" in p.stdout
