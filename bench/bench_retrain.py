#!/usr/bin/env python3
"""Benchmarks of ./retrain.sh and ./evaluate.sh in the image, side by side in one container.

    python3 bench/bench_retrain.py [--per_class 918] [--backbone NAME] [--upstream_shape [NAME]]

On a generated dataset the size of flower_photos (4 x 918 = 3,672 images), offline:
- raw backbone throughput: batched `predict` on images already decoded in memory (images/s), by
  the engine retrain runs (ONNX Runtime where the backbone is converted), and by TensorFlow
- bottleneck extraction throughput of retrain's first run: hashing, decoding, the network and the
  cache writes included (images/s), and its ratio to the raw figure (target >= 0.8)
- first run vs cached re-run, whole command wall time, and their ratio (target <= 0.1); the
  re-run's time is the median of three (they vary by ~10 %); the first run's peak resident memory
- evaluate latency per image: (time for 51 images - time for 1) / 50, each the faster of two runs,
  and the time of the whole command for one image; by its default engine and by Keras alone
  (--engine tensorflow), in turn
Writes bench/results/retrain-<backbone>.json and prints a table.

--upstream_shape [efficientnet_b0|inception_v3] times a backbone of the users' build instead of
this image's: EfficientNetB0 at 224 px (the default) or InceptionV3 at 299 px (the classic
tutorial's) from a Keras .h5 weights file, with untrained weights (tests/untrained_backbone.py: the
real ones are unreachable here; the compute is the same), on all-JPEG images of flower_photos'
sizes (320-500 px), converted for ONNX Runtime as the users' build converts it (onnx and tf2onnx
from PyPI, hash-checked). Its times are the users'; its accuracy means nothing.
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
from support.untrained_backbone import UPSTREAM, convert_for_onnx, install_untrained_backbone

REPO = Path(__file__).resolve().parents[1]

TAG = os.environ.get("IMAGE_TAG", "rucka/deeplearning:cpu")
PAYLOADS = REPO / "bench" / "payloads"  # programs run in the container


def docker(*args, timeout=3600):
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=timeout)


def timed(cid, *cmd):
    t = time.monotonic()
    p = docker("exec", cid, *cmd)
    return time.monotonic() - t, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per_class", type=int, default=918)
    ap.add_argument("--backbone", default="")
    ap.add_argument("--raw_images", type=int, default=600, help="images for the raw predict figure")
    ap.add_argument(
        "--upstream_shape",
        nargs="?",
        const="efficientnet_b0",
        choices=sorted(UPSTREAM),
        help="an upstream backbone, untrained, on flower_photos-sized JPEGs: the users' runs, timed",
    )
    args = ap.parse_args()

    cid = docker("run", "-d", "--network", "none", TAG, "sleep", "infinity").stdout.strip()
    try:
        dataset = ["--size", "320", "500", "--jpeg"] if args.upstream_shape else []
        docker("exec", cid, "python", "-m", "dlkit.textures", "/tmp/ds", "--per_class", str(args.per_class), *dataset)
        if args.upstream_shape:
            args.backbone = install_untrained_backbone(Container(cid), args.upstream_shape)["name"]
            convert_for_onnx(Container(cid), args.backbone)  # as the users' build converts theirs
        raw = json.loads(
            docker(
                "exec",
                cid,
                "python",
                "-c",
                (PAYLOADS / "raw_predict.py").read_text(),
                args.backbone,
                str(args.raw_images),
            ).stdout.splitlines()[-1]
        )
        backbone = raw["backbone"]
        retrain = ["./retrain.sh", "--image_dir", "/tmp/ds", "--output_dir", "/tmp/models", "--backbone", backbone]
        first_s, first_out = timed(cid, "python", "-c", (PAYLOADS / "peak_memory.py").read_text(), *retrain)
        metrics = json.loads(docker("exec", cid, "cat", "/tmp/models/retrained/metrics.json").stdout)
        reruns = []
        for _ in range(3):
            seconds, out = timed(cid, *retrain)
            assert ", 0 computed," in out, "the re-run recomputed bottlenecks"
            reruns.append(seconds)
        second_s = statistics.median(reruns)
        one = sorted(docker("exec", cid, "bash", "-c", "ls /tmp/ds/*/* | head -51").stdout.split())
        # evaluate by its default engine (the backbone by ONNX Runtime where converted, the new layer
        # in NumPy) and by Keras (--engine tensorflow), in turn; each the faster of two runs: a first
        # command can be slowed by a cold disk cache.
        evaluate = {}
        for _ in range(2):
            for engine in ("auto", "tensorflow"):
                cmd = ["./evaluate.sh", "--engine", engine, "--model_dir", "/tmp/models/retrained", "--json"]
                for n in (1, 51):
                    seconds = timed(cid, *cmd, *one[:n])[0]
                    evaluate[engine, n] = min(seconds, evaluate.get((engine, n), seconds))
    finally:
        docker("rm", "-f", cid)

    b = metrics["bottlenecks"]
    # The raw figure of the engine retrain ran (ONNX Runtime where the backbone is converted).
    raw_ips = raw["images"] / (raw["onnx_s"] if b["engine"] == "onnx" else raw["seconds"])
    extract_ips = b["computed"] / b["seconds"]
    results = {
        "backbone": backbone,
        "dataset": "JPEG, 320-500 px (flower_photos' sizes)" if args.upstream_shape else "JPEG + PNG, 160-256 px",
        "dataset_images": metrics["images"]["total"],
        "engine": b["engine"],
        "raw_predict_images_per_s": raw_ips,
        "raw_tensorflow_images_per_s": raw["images"] / raw["seconds"],
        "raw_keras_predict_images_per_s": raw["images"] / raw["predict_s"],
        "raw_predict_on_batch_images_per_s": raw["images"] / raw["predict_on_batch_s"],
        "bottleneck_extraction_images_per_s": extract_ips,
        "extraction_over_raw_ratio": extract_ips / raw_ips,
        "first_run_s": first_s,
        "first_run_peak_rss_mib": float(first_out.splitlines()[-1]),
        "cached_rerun_s": second_s,
        "cached_reruns_s": reruns,
        "rerun_over_first_ratio": second_s / first_s,
        "final_test_accuracy": None if args.upstream_shape else metrics["final_test_accuracy"],
        "evaluate_latency_per_image_ms": (evaluate["auto", 51] - evaluate["auto", 1]) / 50 * 1000,
        "evaluate_one_image_command_s": evaluate["auto", 1],
        "evaluate_latency_per_image_tensorflow_ms": (evaluate["tensorflow", 51] - evaluate["tensorflow", 1])
        / 50
        * 1000,
        "evaluate_one_image_command_tensorflow_s": evaluate["tensorflow", 1],
    }
    results["evaluate_one_image_over_tensorflow_ratio"] = (
        results["evaluate_one_image_command_s"] / results["evaluate_one_image_command_tensorflow_s"]
    )
    targets = {"extraction_over_raw_ratio": (">=", 0.8), "rerun_over_first_ratio": ("<=", 0.1)}
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"{TAG}, retrain/evaluate on {machine}")
    for k, v in results.items():
        t = targets.get(k)
        verdict = ""
        if t:
            ok = v >= t[1] if t[0] == ">=" else v <= t[1]
            verdict = f"  {'ok' if ok else 'MISSED'} ({t[0]} {t[1]})"
        shown = (
            v
            if isinstance(v, str) or v is None
            else " ".join(f"{x:.3f}" for x in v)
            if isinstance(v, list)
            else f"{v:10.3f}"
        )
        print(f"  {k:34s} {shown}{verdict}")
    out = REPO / "bench" / "results" / f"retrain-{backbone}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_results(out, image=TAG, machine=machine, results=results)


if __name__ == "__main__":
    main()
