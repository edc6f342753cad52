#!/usr/bin/env python3
"""The training path of ./retrain.sh: the lesson's fit (dlkit.training) against plainer uses of fit.

    python3 bench/bench_training_path.py [--rounds 3]

Each variant of bench/payloads/training_path.py (the lesson's ClassicHead; fit with an epoch per
report; fit with a report callback; fit with no report at all, the floor of a step per training
step) runs in turn, round after round, in a fresh container of the image (offline); the figure is
the median of the rounds' training seconds, and its ratio to the lesson's.
Writes bench/results/training-path.json and prints a table.
"""

import argparse
import json
import os
import statistics
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TAG = os.environ.get("IMAGE_TAG", "rucka/deeplearning:cpu")
VARIANTS = ["classic-head", "fit-epochs", "fit-callback", "fit-bare"]


def run(variant):
    payloads = f"{REPO / 'bench' / 'payloads'}:/payloads:ro"
    cmd = ["docker", "run", "--rm", "--network", "none", "-v", payloads, TAG, "python", "/payloads/training_path.py"]
    cmd += [variant, "/tmp/logs"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench_training_path: {variant} failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    rounds = ap.parse_args().rounds
    runs = {v: [] for v in VARIANTS}
    for _ in range(rounds):
        for v in VARIANTS:
            runs[v].append(run(v))
    base = statistics.median(r["seconds"] for r in runs["classic-head"])
    results = {}
    print(f"{'variant':14} {'training s':>10} {'ratio':>8} {'test acc':>9} {'reports':>8}")
    for v, rs in runs.items():
        s = statistics.median(r["seconds"] for r in rs)
        results[v] = {
            "seconds": [r["seconds"] for r in rs],
            "median": s,
            "ratio": s / base,
            "test_accuracy": rs[0]["test_accuracy"],
            "reports": rs[0]["reports"],
        }
        print(f"{v:14} {s:10.2f} {s / base:8.2f} {rs[0]['test_accuracy'] * 100:8.1f}% {rs[0]['reports']:8d}")
    out = REPO / "bench" / "results" / "training-path.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"image": TAG, "rounds": rounds, "variants": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
