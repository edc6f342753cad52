"""Jupyter under a workshop's load: 8 kernels each train a small Keras model at once, in one
container capped at MEMORY_BOUND. All finish with a trained model, no kernel dies, the
container stays under the bound, and the server keeps answering GET /api while they work.
(The figures themselves, latency percentiles and memory per kernel: `make bench`.)"""

import re

import pytest
from support.containers import running
from support.jupyter_load import KERNELS, MEMORY_BOUND_MIB, run_load


@pytest.fixture(scope="module")
def load(token):
    # --memory makes the bound real: a container that needs more gets a kernel OOM-killed.
    with running(
        "-p",
        "127.0.0.1::8888",
        "-e",
        f"JUPYTER_TOKEN={token}",
        "--memory",
        f"{MEMORY_BOUND_MIB}m",
        "--memory-swap",
        f"{MEMORY_BOUND_MIB}m",
    ) as c:
        c.wait_healthy(timeout=90)
        result = run_load(c, token, kernels=KERNELS)
        print({k: v for k, v in result.items() if k != "results"})
        result["logs"] = c.logs()
        yield result


def test_every_kernel_trains_its_model(load):
    assert len(load["results"]) == KERNELS
    for r in load["results"].values():
        assert r["error"] is None, r["error"]
        m = re.fullmatch(r"accuracy (\d\.\d+)\n", r["stdout"])
        assert m and float(m.group(1)) >= 0.9, r


def test_no_kernel_died(load):
    assert load["kernels_alive_after"] == KERNELS
    assert not re.search(r"restarting|died|Killed", load["logs"], re.I)


def test_memory_stays_within_the_bound(load):
    assert load["memory_peak_mib"] < MEMORY_BOUND_MIB


def test_the_server_answers_throughout(load):
    assert load["api_probes"] >= 10 and load["api_failures"] == 0
    assert load["api_latency_ms"]["max"] < 2000  # responsive: no request waited behind the kernels
