"""Label images with a model made by ./retrain.sh: the best labels and their probabilities.

    ./evaluate.sh IMAGE [IMAGE ...]            e.g. ./evaluate.sh data/test/bart.jpg
    ./evaluate.sh FOLDER --top_k 3             every image in a folder (or a .zip, .tar.gz of them)
    ./evaluate.sh IMAGE --json                 machine-readable

Prints, per image, labels best first, as the classic label_image did:
    bart 0.63594097
    homer 0.21034181
The saved model contains the ImageNet backbone and its preprocessing, so any image of any size
works: it is read by content (a PNG named .jpg is fine) and resized to what the model expects.
Where the image has the backbone converted for ONNX Runtime, evaluate runs the backbone there, as
./retrain.sh does, and the new layer (saved beside the model as head.npz) in NumPy: no TensorFlow
to import, the same probabilities, sooner. --engine tensorflow loads model.keras with Keras.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dlkit import archives, dataset, engine
from dlkit.assets import import_keras
from dlkit.errors import UserError, main_guard
from dlkit.images import decoded_batches, predict_padded


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("images", nargs="+", help="image files, folders or archives (.zip, .tar.gz) of images")
    p.add_argument("--model_dir", type=Path, default=Path("models/retrained"))
    p.add_argument("--top_k", type=int, default=5)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--engine", choices=engine.ENGINES, default="auto",
                   help="auto: ONNX Runtime where it can run the model's backbone, else TensorFlow")
    args = p.parse_args(argv)
    if args.top_k < 1:
        p.error("--top_k must be at least 1")
    return args


def load_labels(model_dir):
    """The labels of a folder written by retrain.py, in the order of the model's outputs."""
    model_file, labels_file = model_dir / "model.keras", model_dir / "labels.txt"
    if not model_file.exists() or not labels_file.exists():
        raise UserError(f"no trained model in {model_dir} (model.keras and labels.txt): run ./retrain.sh first")
    return [line.strip() for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_model(model_dir, labels, batch_size):
    """(predict(images) -> probabilities, input size): model.keras loaded by Keras, every call padded
    to batch_size images (Keras traces the network again for each new batch shape)."""
    model_file = model_dir / "model.keras"
    keras = import_keras(lean=True)  # without integrations this program never uses: a quicker first label
    try:
        model = keras.models.load_model(model_file, compile=False)
    except Exception as e:  # a damaged or foreign file: Keras raises many kinds
        raise UserError(f"{model_file} is not a model this program can load ({type(e).__name__})")
    shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    if not shape or len(shape) != 4 or shape[3] != 3 or not shape[1] or shape[1] != shape[2]:
        raise UserError(f"{model_file} takes input of shape {model.input_shape}, not square RGB images; "
                        f"it was not made by ./retrain.sh")
    if model.output_shape[-1] != len(labels):
        raise UserError(f"{model_dir}: the model has {model.output_shape[-1]} outputs but labels.txt has "
                        f"{len(labels)} labels; the two files come from different runs")
    return (lambda images: predict_padded(model.predict_on_batch, images, batch_size)), shape[1]


def main(argv=None):
    args = parse_args(argv)
    given = [archives.folder_of(a, args.model_dir.parent / ".archives") for a in args.images]  # unpacked once
    files, problems = dataset.files_to_label(given)  # folders walked, archive junk left out
    results, errors = [], len(problems)
    for name, why in problems:
        print(f"evaluate: error: {name}: {why}", file=sys.stderr)
        results.append({"image": name, "error": why})
    if not files:  # nothing to label: the model is not even loaded
        if args.json:
            print(json.dumps(results, indent=2))
        return 1
    labels = load_labels(args.model_dir)
    batch_size = min(32, len(files))  # a folder goes through the network 32 images at a time
    predict, size = (engine.labeller(args.model_dir, len(labels), args.engine)
                     or load_model(args.model_dir, labels, batch_size))
    from tqdm import tqdm

    with tqdm(total=len(files), desc="labelling", unit="img", disable=None if len(files) > 20 else True) as bar:
        for batch in decoded_batches(files, size, batch_size):
            good = [x for _, x, why in batch if why is None]
            probabilities = iter(predict(np.stack(good)) if good else [])
            for f, x, why in batch:
                if why is not None:
                    print(f"evaluate: error: {f}: {why}", file=sys.stderr)
                    results.append({"image": str(f), "error": why})
                    errors += 1
                    continue
                p = next(probabilities)
                best = np.argsort(-p)[:args.top_k]
                results.append({"image": str(f),
                                 "predictions": [{"label": labels[i], "score": float(p[i])} for i in best]})
            bar.update(len(batch))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "predictions" not in r:
                continue
            if len(files) > 1:
                print(f"{r['image']}:")
            for pred in r["predictions"]:
                print(f"{'  ' if len(files) > 1 else ''}{pred['label']} {pred['score']:.8f}")
    return 1 if errors else 0


if __name__ == "__main__":
    main_guard("evaluate", main)
