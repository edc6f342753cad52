"""JupyterLab in an image meant to run offline: no news prompt, an extension manager that installs
nothing from PyPI, and notebooks that JupyterLab opens clean (their kernel metadata is exactly what
the image's kernel reports, so nothing is rewritten and autosaved on open)."""

import json
import uuid

import pytest
import websocket
from support.containers import http_get


def defaults(lab, token, plugin):
    """A plugin's settings as a user without settings of their own gets them: the schema's defaults,
    after the image's overrides (overrides.d)."""
    status, body = http_get(lab.url(8888, f"/lab/api/settings/{plugin}"), token)
    assert status == 200
    return {k: v.get("default") for k, v in json.loads(body)["schema"]["properties"].items()}


def test_no_news_prompt_and_no_update_check(lab, token):
    notification = defaults(lab, token, "@jupyterlab/apputils-extension:notification")
    # "false" is "Never": with the default "none" JupyterLab asks every new user about the news feed.
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False


def test_the_extension_manager_searches_and_installs_nothing_online(lab, token):
    status, body = http_get(lab.url(8888, "/lab/api/extensions?query=jupyterlab-git&refresh=1"), token)
    assert status == 200 and json.loads(body) == []
    status, body = http_get(
        lab.url(8888, "/lab/api/extensions"),
        token,
        method="POST",
        body={"cmd": "install", "extension_name": "jupyterlab-git"},
    )
    assert status == 422 and "blocked" in json.loads(body)["message"]


def kernel_info(lab, token):
    """The language_info the image's python3 kernel reports (what JupyterLab writes into a notebook)."""
    status, body = http_get(lab.url(8888, "/api/kernels"), token, method="POST", body={"name": "python3"})
    assert status == 201
    kernel = json.loads(body)["id"]
    ws = websocket.create_connection(
        lab.url(8888, f"/api/kernels/{kernel}/channels").replace("http", "ws", 1),
        header=[f"Authorization: token {token}"],
        timeout=60,
    )
    try:
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "kernel_info_request",
                        "username": "test",
                        "session": uuid.uuid4().hex,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {},
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        while True:
            msg = json.loads(ws.recv())
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "kernel_info_reply":
                return msg["content"]["language_info"]
    finally:
        ws.close()
        http_get(lab.url(8888, f"/api/kernels/{kernel}"), token, method="DELETE")


@pytest.fixture(scope="module")
def notebooks(lab, token):
    status, body = http_get(lab.url(8888, "/api/contents/examples"), token)
    assert status == 200
    names = sorted(i["path"] for i in json.loads(body)["content"] if i["name"].endswith(".ipynb"))
    assert len(names) == 7
    return {n: json.loads(http_get(lab.url(8888, f"/api/contents/{n}"), token)[1])["content"] for n in names}


def test_notebooks_carry_the_image_s_kernel_metadata(lab, token, notebooks):
    status, body = http_get(lab.url(8888, "/api/kernelspecs"), token)
    spec = json.loads(body)["kernelspecs"]["python3"]["spec"]
    kernelspec = {"display_name": spec["display_name"], "language": spec["language"], "name": "python3"}
    language_info = kernel_info(lab, token)
    for name, nb in notebooks.items():
        assert nb["metadata"]["kernelspec"] == kernelspec, name
        assert nb["metadata"]["language_info"] == language_info, name
        assert nb["nbformat"] == 4 and nb["nbformat_minor"] == 5, name
        assert all(c.get("id") for c in nb["cells"]), name  # 4.5 cell ids: nothing to add on open
