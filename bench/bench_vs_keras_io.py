#!/usr/bin/env python3
"""./retrain.sh against keras.io's transfer-learning recipe, side by side in one container.

    python3 bench/bench_vs_keras_io.py [--rounds 3] [--per_class 500] [--upstream_shape]

The same image, backbone, 2,000 generated images (4 classes) and held-out set (120 images, another
seed), offline. Each round runs, one after the other (whole commands, `docker exec` included):
- ./retrain.sh's first run (a new feature cache each round), then its cached re-run;
- the first run again with --engine tensorflow (the backbone on TensorFlow instead of ONNX Runtime);
- keras.io's recipe, `fit` for 5 epochs, and its feature-extraction variant (payloads/keras_io_recipe.py).
Prints each one's median seconds, its held-out accuracy (payloads/heldout_accuracy.py, on the model
each one saved) and the ratios to the two keras.io figures, against the targets: first run <= 0.20 x
the recipe and <= 0.5 x its feature-extraction variant; cached re-run <= 0.05 x the recipe.
--upstream_shape: EfficientNetB0 at 224 px, untrained, on all-JPEG images of 320-500 px (the
users' default shape; its accuracy means nothing), converted for ONNX Runtime as the users' build
converts it (onnx and tf2onnx fetched from PyPI by this machine, hash checked).
Writes bench/results/vs-keras-io-<backbone>.json.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

from support.containers import Container
from support.results import save_results
from support.untrained_backbone import convert_for_onnx, install_untrained_backbone

REPO = Path(__file__).resolve().parents[1]
TAG = os.environ.get("IMAGE_TAG", "rucka/deeplearning:cpu")
PAYLOADS = REPO / "bench" / "payloads"
TARGETS = {"first run": {"fit": 0.20, "extract": 0.5}, "cached re-run": {"fit": 0.05}}


def docker(*args, timeout=3600):
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=timeout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per_class", type=int, default=500)
    ap.add_argument("--upstream_shape", action="store_true", help="EfficientNetB0 at 224 px, untrained")
    args = ap.parse_args()
    cid = docker("run", "-d", "--network", "none", TAG, "sleep", "infinity").stdout.strip()
    try:
        shape = ["--size", "320", "500", "--jpeg"] if args.upstream_shape else []
        for folder, n, seed in (("/tmp/ds", args.per_class, "0"), ("/tmp/heldout", 30, "99")):
            docker("exec", cid, "python", "-m", "dlkit.textures", folder, "--per_class", str(n), "--seed", seed, *shape)
        if args.upstream_shape:
            backbone = install_untrained_backbone(Container(cid), "efficientnet_b0")["name"]
            convert_for_onnx(Container(cid), backbone)  # as the users' build converts theirs
        else:
            backbone = docker("exec", cid, "dl-assets", "path", "backbone").stdout.strip().split("/")[-2]
        recipe = (PAYLOADS / "keras_io_recipe.py").read_text()

        def retrain(name, cache, *more):
            return ["./retrain.sh", "--image_dir", "/tmp/ds", "--output_dir", "/tmp/m", "--name", name,
                    "--bottleneck_dir", cache, "--backbone", backbone, *more]  # fmt: skip

        seconds, models = {}, {}
        for r in range(args.rounds):
            runs = {
                "first run": (retrain("first", f"/tmp/cache-{r}"), "/tmp/m/first/model.keras"),
                "cached re-run": (retrain("rerun", f"/tmp/cache-{r}"), "/tmp/m/rerun/model.keras"),
                "first run, TensorFlow engine": (
                    retrain("tf", f"/tmp/cache-tf-{r}", "--engine", "tensorflow"),
                    "/tmp/m/tf/model.keras",
                ),
                "keras.io recipe (fit, 5 epochs)": (
                    ["python", "-c", recipe, "fit", backbone, "/tmp/ds", "/tmp/kio-fit.keras"],
                    "/tmp/kio-fit.keras",
                ),
                "keras.io feature extraction": (
                    ["python", "-c", recipe, "extract", backbone, "/tmp/ds", "/tmp/kio-extract.keras"],
                    "/tmp/kio-extract.keras",
                ),
            }
            for what, (cmd, model) in runs.items():
                t = time.monotonic()
                docker("exec", cid, *cmd)
                seconds.setdefault(what, []).append(time.monotonic() - t)
                models[what] = model
                print(f"  round {r + 1}: {what:34s} {seconds[what][-1]:7.2f} s", flush=True)
        check = (PAYLOADS / "heldout_accuracy.py").read_text()
        heldout = {
            what: json.loads(docker("exec", cid, "python", "-c", check, m, "/tmp/heldout").stdout.splitlines()[-1])
            for what, m in models.items()
        }
    finally:
        docker("rm", "-f", cid)

    median = {what: statistics.median(s) for what, s in seconds.items()}
    fit, extract = median["keras.io recipe (fit, 5 epochs)"], median["keras.io feature extraction"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"{TAG}, backbone {backbone}, {4 * args.per_class} images, on {machine}; medians of {args.rounds}")
    print(f"  {'':34s} {'seconds':>8s} {'held-out':>9s} {'/ recipe':>9s} {'/ extract':>9s}  targets")
    rows = {}
    for what, s in median.items():
        h = heldout[what]
        goals = TARGETS.get(what, {})
        verdict = ", ".join(
            f"{k} <= {v}: {'ok' if s / (fit if k == 'fit' else extract) <= v else 'MISSED'}" for k, v in goals.items()
        )
        print(f"  {what:34s} {s:8.2f} {h['right'] / h['images']:9.1%} {s / fit:9.3f} {s / extract:9.3f}  {verdict}")
        rows[what] = {"seconds": s, "runs_s": seconds[what], "heldout": h, "over_recipe": s / fit,
                      "over_extraction": s / extract}  # fmt: skip
    out = REPO / "bench" / "results" / f"vs-keras-io-{backbone}.json"
    save_results(out, image=TAG, machine=machine, images=4 * args.per_class, rounds=args.rounds, results=rows)


if __name__ == "__main__":
    main()
