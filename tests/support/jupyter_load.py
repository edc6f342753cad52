"""N Jupyter kernels each training a small Keras model at the same time, in one container.

Used by tests/test_load.py (everything finishes, memory within the bound) and by
bench/bench_jupyter.py (the figures). While the kernels work, one thread times GET /api every
LATENCY_EVERY seconds (is the server still responsive?) and another samples the container's
anonymous memory (what the kernels really use; page cache can be reclaimed) from its cgroup.
"""

import json
import statistics
import threading
import time

import websocket

from .containers import REPO, http_get, payload
from .notebook_client import execute_request

KERNELS = 8
MEMORY_BOUND_MIB = 4096  # stated bound for 8 kernels; measured peak ~2.7 GiB (CPU image)
# The notebooks, and the client that runs one through the container's own Jupyter server.
NOTEBOOKS = sorted(p.name for p in (REPO / "examples").glob("*.ipynb"))
CLIENT = (REPO / "tests" / "support" / "notebook_client.py").read_text()
LATENCY_EVERY = 0.25
# cgroup v2 (memory.stat "anon") or v1 ("total_rss"), inside the container.
MEMORY = "cat /sys/fs/cgroup/memory.stat 2>/dev/null || cat /sys/fs/cgroup/memory/memory.stat"


def anon_bytes(container):
    """The container's anonymous (non-reclaimable) memory in bytes, from its cgroup."""
    stat = dict(line.split() for line in container.exec("sh", "-c", MEMORY).stdout.splitlines())
    return int(stat.get("anon", stat.get("total_rss", 0)))


def execute(ws, code, timeout=60):
    """Run code in a kernel through its open websocket; return (stdout, error or None).
    Raises AssertionError when the kernel has not finished within timeout seconds."""
    request = execute_request(code)
    ws.send(json.dumps(request))
    out, error, deadline = [], None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != request["header"]["msg_id"]:
            continue
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            error = "\n".join(msg["content"]["traceback"])
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out), error
    raise AssertionError("no answer from the kernel in time")


def run_load(container, token, kernels=8, timeout=600):
    """Start `kernels` kernels through the REST API, run tests/payloads/kernel_fit.py in all of them at once;
    return figures."""
    base = container.url(8888)[:-1]
    baseline = anon_bytes(container)
    ids = [json.loads(http_get(f"{base}/api/kernels", token, method="POST")[1])["id"] for _ in range(kernels)]
    results, latencies, memory, done = {}, [], [baseline], threading.Event()

    def probe():
        while not done.is_set():
            t = time.perf_counter()
            try:
                ok = http_get(f"{base}/api", token, timeout=10)[0] == 200
            except OSError:
                ok = False
            latencies.append(time.perf_counter() - t if ok else float("inf"))
            done.wait(LATENCY_EVERY)

    def sample():
        while not done.is_set():
            memory.append(anon_bytes(container))
            done.wait(0.5)

    def work(kid):
        t = time.perf_counter()
        ws_url = f"{base}/api/kernels/{kid}/channels".replace("http", "ws", 1)
        try:
            ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=timeout)
            try:
                out, error = execute(ws, payload("kernel_fit.py"), timeout)
            finally:
                ws.close()
        except Exception as e:  # noqa: BLE001 - a dead kernel or socket is a result to report
            out, error = "", f"{type(e).__name__}: {e}"
        results[kid] = {"stdout": out, "error": error, "seconds": time.perf_counter() - t}

    watchers = [threading.Thread(target=f, daemon=True) for f in (probe, sample)]
    workers = [threading.Thread(target=work, args=(kid,)) for kid in ids]
    t0 = time.perf_counter()
    for th in watchers + workers:
        th.start()
    for th in workers:
        th.join(timeout)
    wall = time.perf_counter() - t0
    done.set()
    for th in watchers:
        th.join()
    alive = json.loads(http_get(f"{base}/api/kernels", token)[1])
    for kid in ids:
        http_get(f"{base}/api/kernels/{kid}", token, method="DELETE")
    finite = sorted(v for v in latencies if v != float("inf"))
    return {
        "kernels": kernels,
        "results": results,
        "wall_s": wall,
        "kernels_alive_after": sum(k["id"] in ids for k in alive),
        "memory_baseline_mib": baseline / 2**20,
        "memory_peak_mib": max(memory) / 2**20,
        "memory_per_kernel_mib": (max(memory) - baseline) / 2**20 / kernels,
        "api_probes": len(latencies),
        "api_failures": len(latencies) - len(finite),
        "api_latency_ms": {
            "p50": statistics.median(finite) * 1e3 if finite else None,
            "p95": finite[int(0.95 * (len(finite) - 1))] * 1e3 if finite else None,
            "max": finite[-1] * 1e3 if finite else None,
        },
    }
