#!/usr/bin/env python3
"""JupyterLab's figures: the notebook suite through the server, and the server under load.

    python bench/bench_jupyter.py [--kernels 8]

1. Every notebook in examples/, run through JupyterLab's server in a locked-down
   container (tests/notebook_client.py, as tests/test_notebooks.py does): seconds each and in all.
2. A small Keras fit in N kernels at once (tests/jupyter_load.py, the load tests/test_load.py
   checks): wall time, memory (peak and per kernel), GET /api latency while they work.
"""

import argparse
import json
import os
import platform
import secrets
import time
from pathlib import Path

from support.containers import IMAGE, LOCKED, VARIANT, running
from support.jupyter_load import CLIENT, KERNELS, MEMORY_BOUND_MIB, NOTEBOOKS, run_load

REPO = Path(__file__).resolve().parents[1]


def notebook_suite(token):
    """{notebook: seconds} through the server of one locked-down container; raises on an error."""
    seconds = {}
    with running(*LOCKED, "-e", f"JUPYTER_TOKEN={token}") as c:
        c.wait_healthy(timeout=90)
        for nb in NOTEBOOKS:
            p = c.exec("python", "-c", CLIENT, token, f"examples/{nb}", timeout=1800)
            result = json.loads(p.stdout.strip().splitlines()[-1])
            if p.returncode or result["error"]:
                raise SystemExit(f"bench: {nb} failed: {result['error'] or p.stderr}")
            seconds[nb] = result["seconds"]
    return seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", type=int, default=KERNELS)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / f"jupyter-{VARIANT}.json"))
    args = ap.parse_args()
    token = secrets.token_hex(16)
    notebooks = notebook_suite(token)
    with running("-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}") as c:
        c.wait_healthy(timeout=90)
        r = run_load(c, token, kernels=args.kernels)
    fits = sorted(v["seconds"] for v in r["results"].values())
    ok = sum(v["error"] is None for v in r["results"].values())
    results = {
        "notebook_suite_s": sum(notebooks.values()),
        **{f"notebook {nb.split('_', 1)[0]}_s": v for nb, v in notebooks.items()},
        "kernels": r["kernels"],
        "kernels_ok": ok,
        "wall_s": r["wall_s"],
        "fit_s_slowest": fits[-1],
        "memory_peak_mib": r["memory_peak_mib"],
        "memory_per_kernel_mib": r["memory_per_kernel_mib"],
        "api_latency_p50_ms": r["api_latency_ms"]["p50"],
        "api_latency_p95_ms": r["api_latency_ms"]["p95"],
        "api_latency_max_ms": r["api_latency_ms"]["max"],
        "api_probes": r["api_probes"],
        "api_failures": r["api_failures"],
    }
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"
    print(
        f"{IMAGE} on {machine}: notebooks through Jupyter (locked down); "
        f"{args.kernels} kernels each fitting a small Keras model at once"
    )
    for key, value in results.items():
        print(f"  {key:26s} {value:10.1f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "image": IMAGE,
                "machine": machine,
                "results": results,
                "bound": {"memory_mib": MEMORY_BOUND_MIB, "per": f"{KERNELS} kernels (tests/test_load.py)"},
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
