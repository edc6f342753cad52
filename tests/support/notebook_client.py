"""Run one notebook through the Jupyter server of the container it runs in, as a browser would.

    python notebook_client.py TOKEN examples/01_transfer_learning.ipynb

Executed inside the container (the tests start it with --network none, so only its own loopback
reaches the server): reads the notebook through the contents API, starts a session (a kernel)
through the sessions API, sends each code cell over the kernel's websocket, stops at the first
error, deletes the session. Prints one JSON line: {"error", "errors", "seconds", "text"}.
Uses only what the image has (tornado comes with Jupyter). The host tests import execute_request
from here, so every kernel request in the tests is built in one place.
"""

import asyncio
import json
import sys
import time
import urllib.request
import uuid

SERVER = "127.0.0.1:8888"
CELL_TIMEOUT = 900


def api(method, path, headers, body=None):
    req = urllib.request.Request(
        f"http://{SERVER}{path}",
        method=method,
        headers=headers,
        data=json.dumps(body).encode() if body is not None else None,
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        data = r.read()
        return json.loads(data) if data else None


def execute_request(code):
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "username": "test",
            "session": uuid.uuid4().hex,
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "buffers": [],
        "content": {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    }


async def run(token, path):
    from tornado.httpclient import HTTPRequest  # the image has tornado; the host tests need not
    from tornado.websocket import websocket_connect

    headers = {"Authorization": "token " + token, "Content-Type": "application/json"}
    t0 = time.monotonic()
    notebook = api("GET", f"/api/contents/{path}", headers)["content"]
    session = api(
        "POST",
        "/api/sessions",
        headers,
        {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}},
    )
    ws = await websocket_connect(
        HTTPRequest(f"ws://{SERVER}/api/kernels/{session['kernel']['id']}/channels", headers=headers)
    )
    outputs, error = [], None
    try:
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code" or error:
                continue
            request = execute_request(cell["source"])
            await ws.write_message(json.dumps(request))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.read_message(), CELL_TIMEOUT))
                if msg["parent_header"].get("msg_id") != request["header"]["msg_id"]:
                    continue
                if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                    outputs.append({"output_type": msg["msg_type"], **msg["content"]})
                if msg["msg_type"] == "error":
                    error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
    finally:
        ws.close()
        api("DELETE", f"/api/sessions/{session['id']}", headers)
    return {
        "error": error,
        "errors": sum(o["output_type"] == "error" for o in outputs),
        "seconds": round(time.monotonic() - t0, 1),
        "text": json.dumps(outputs),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(sys.argv[1], sys.argv[2]))))
