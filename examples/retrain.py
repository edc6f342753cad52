"""Transfer learning: retrain the final layer of an ImageNet network for your own categories.

    ./retrain.sh                                   the image's embedded dataset, default backbone
    ./retrain.sh --image_dir data/simpsons         a folder with one sub-folder per category
    ./retrain.sh --image_dir data/simpsons.zip     or such a folder in a .zip or .tar.gz
    ./retrain.sh --backbone inception_v3 --how_many_training_steps 500

What it shows (the "Simpsons detector" of the talk, after TensorFlow's classic retrain.py):
1. The dataset is a folder with one sub-folder of images per category, named after it.
2. A network trained on ImageNet already knows how to see. We keep it frozen and run every image
   through it once, keeping its last feature vector: the "bottleneck". These are cached on disk
   by image content, so a second run skips this slow part.
3. Images are split into training / validation / testing by a hash of their path inside the
   dataset, so the split never changes between runs (or when the folder is moved).
4. We then train only a new softmax layer on the bottlenecks: seconds, not days.
5. The test images, never seen in training, tell how good the new model is; it is saved with the
   backbone inside, ready to label any image (./evaluate.sh).
Training is Keras's `model.fit`; each of its steps is one report interval of the classic
retrain.py (10 steps of gradient descent, run in the graph), so a re-run takes seconds.
Outputs in models/<name>/: model.keras (backbone included), labels.txt, TensorBoard logs,
learning_curves.png, confusion_matrix.png, metrics.json. A run that is interrupted leaves the
previous model as it was.
"""
import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from dlkit import archives, assets, dataset, engine, reports
from dlkit.bottlenecks import BottleneckCache
from dlkit.errors import main_guard
from dlkit.session import Session


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--image_dir", type=Path, help="folder of class sub-folders, or a .zip or .tar.gz of one "
                                                  "(default: the image's embedded dataset)")
    p.add_argument("--backbone", help="ImageNet network to start from (default: the image's default; see dl-assets list)")
    p.add_argument("--output_dir", type=Path, default=Path("models"), help="where models/<name> is written")
    p.add_argument("--name", default="retrained", help="the model's folder name under --output_dir")
    p.add_argument("--bottleneck_dir", type=Path, help="feature cache (default: OUTPUT_DIR/.bottlenecks)")
    p.add_argument("--how_many_training_steps", type=int, default=4000)
    p.add_argument("--learning_rate", type=float, default=0.01)
    p.add_argument("--train_batch_size", type=int, default=100)
    p.add_argument("--eval_step_interval", type=int, default=10)
    p.add_argument("--validation_batch_size", type=int, default=100, help="-1: the whole validation set")
    p.add_argument("--testing_percentage", type=float, default=10)
    p.add_argument("--validation_percentage", type=float, default=10)
    p.add_argument("--print_misclassified_test_images", action="store_true")
    p.add_argument("--random_seed", type=int, default=0, help="same seed, same data, same result")
    p.add_argument("--flip_left_right", action="store_true", help="distortion: random horizontal flips")
    p.add_argument("--random_scale", type=float, default=0, help="distortion: random zoom, in percent")
    p.add_argument("--random_brightness", type=float, default=0, help="distortion: random brightness, in percent")
    p.add_argument("--batch_size", type=int, default=32, help="images per backbone call when computing bottlenecks")
    p.add_argument("--engine", choices=engine.ENGINES, default="auto",
                   help="what runs the frozen backbone: onnx (ONNX Runtime, the network converted at build "
                        "time: faster), tensorflow; auto: onnx where it can run")
    p.add_argument("--distribute", choices=["none", "mirrored"], default="none",
                   help="mirrored: tf.distribute.MirroredStrategy over every GPU (without GPUs: over "
                        "DL_LOGICAL_CPUS logical CPU devices, to try it on a laptop)")
    args = p.parse_args(argv)
    if args.how_many_training_steps < 1 or args.train_batch_size < 1 or args.eval_step_interval < 1:
        p.error("--how_many_training_steps, --train_batch_size and --eval_step_interval must be at least 1")
    if not 0 <= args.testing_percentage + args.validation_percentage < 100:
        p.error("--testing_percentage + --validation_percentage must be between 0 and 100")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", args.name) or args.name.startswith("."):
        p.error("--name must be a plain folder name (letters, digits, . _ -)")
    return args


def main(argv=None):
    args = parse_args(argv)
    t0 = time.monotonic()

    # 1. The dataset: {label: [image files]}, one label per sub-folder. An archive of it is
    #    unpacked once, into OUTPUT_DIR/.archives.
    image_dir = archives.folder_of(args.image_dir or assets.dataset_root(), args.output_dir / ".archives")
    classes = dataset.scan(image_dir)
    labels = sorted(classes)
    files = [f for label in labels for f in classes[label]]
    label_index = {f: labels.index(label) for label in labels for f in classes[label]}
    with reports.output_folder(args.output_dir, args.name, image_dir, [args.bottleneck_dir]) as staging:

        # 2. The bottlenecks: each image through the frozen backbone once, cached by content.
        backbone = args.backbone or assets.default_backbone()
        spec, runs_on = assets.backbone_spec(backbone), engine.choose(backbone, args.engine)
        print(f"retrain: {len(files)} files in {len(labels)} classes from {image_dir}; backbone {backbone} "
              f"({spec['input_size']}x{spec['input_size']}, {spec['features']} features, run by {runs_on})")
        cache = BottleneckCache(args.bottleneck_dir or args.output_dir / ".bottlenecks", backbone, runs_on)
        distort = args.flip_left_right or args.random_scale or args.random_brightness
        session = Session(backbone, spec, files, cache, args.distribute, args.random_seed, distort, runs_on,
                          args.batch_size)
        keras = session.keras
        from dlkit.training import ClassicHead, ClassicReport  # they need Keras, imported by the session
        x, kept, skipped, counts, seconds = session.bottlenecks()
        y = np.array([label_index[f] for f in kept], dtype=np.int64)
        print(f"bottlenecks: {len(kept)} images, {counts['computed']} computed, {counts['cached']} from cache "
              f"({seconds:.1f} s)")

        # 3. The split, by a hash of each image's path: the same image always lands in the same set.
        split = dataset.split(kept, y, labels, image_dir, args.testing_percentage, args.validation_percentage)

        # 4. The new final layer: a dense layer gives one score ("logit") per class, softmax turns
        #    the scores into probabilities. It starts from small random weights, as in the classic
        #    retrain.py (their own seed: the same on every run). ClassicHead is a keras.Sequential
        #    that also measures, every eval_step_interval steps, the classic lines' numbers.
        train, val = split["training"], split["validation"]
        steps, every = args.how_many_training_steps, args.eval_step_interval
        with session.strategy.scope():
            start = keras.initializers.TruncatedNormal(stddev=0.001, seed=args.random_seed)
            head = ClassicHead([keras.Input((x.shape[1],)),
                                keras.layers.Dense(len(labels), kernel_initializer=start, name="final_result"),
                                keras.layers.Softmax(name="probabilities")],
                               (x[val], y[val]), args.validation_batch_size, steps, every, args.random_seed)
            data, steps_per_execution = session.training_data(
                x[train], y[train], [kept[i] for i in train], steps, args.train_batch_size, every,
                args.flip_left_right, args.random_scale, args.random_brightness)
            head.compile(optimizer=keras.optimizers.SGD(args.learning_rate),  # plain gradient descent
                         loss="sparse_categorical_crossentropy", steps_per_execution=steps_per_execution)

        # 5. Training: random batches of training bottlenecks; validation accuracy as we go.
        history = []
        head.fit(data, shuffle=False, verbose=0, callbacks=[ClassicReport(history, staging / "logs")])

        # 6. The test: images never used in training.
        test = split["testing"]
        test_acc, _ = reports.accuracy_and_loss(head, x[test], y[test])
        print(f"Final test accuracy = {reports.fmt(test_acc, len(test))}")
        shown, shown_name = (test, "test") if len(test) else (val, "validation")
        pred = np.asarray(head(x[shown], training=False)).argmax(1) if len(shown) else np.array([], int)
        per_class = reports.per_class_accuracy(y[test], pred, labels) if len(test) else {}
        if args.print_misclassified_test_images and len(test):
            print("=== MISCLASSIFIED TEST IMAGES ===")
            for i, p in zip(shown, pred):
                if p != y[i]:
                    print(f"{kept[i]}  {labels[p]}")

        # 7. The model: backbone + new layer, saved with its labels and plots in one step. The
        #    session's helper process draws the plots meanwhile.
        session.meanwhile(reports.plot_curves, history, staging / "learning_curves.png")
        if len(shown):
            session.meanwhile(reports.plot_confusion, y[shown], pred, labels, staging / "confusion_matrix.png",
                              f"{shown_name} set, {len(shown)} images")
        extractor = session.extractor()
        plain_head = keras.Sequential(head.layers, name="head")  # the same layers; loads without dlkit
        model = keras.Model(extractor.input, plain_head(extractor.output), name=f"retrained_{backbone}")
        model.save(staging / "model.keras")
        engine.save_head(staging, head.get_layer("final_result"), backbone)  # for ./evaluate.sh without TensorFlow
        (staging / "labels.txt").write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
        session.finish()  # the plots
        metrics = {
            "backbone": backbone, "replicas": session.replicas, "input_size": spec["input_size"], "labels": labels,
            "image_dir": str(image_dir),
            "images": {"total": len(kept), "skipped": len(skipped), **{s: int(len(i)) for s, i in split.items()},
                       "per_class": dict(Counter(labels[i] for i in y))},
            "bottlenecks": {**counts, "seconds": round(seconds, 3), "engine": runs_on},
            "final_test_accuracy": test_acc, "test_images": int(len(test)), "per_class_test_accuracy": per_class,
            "final_validation_accuracy": history[-1]["validation_accuracy"],
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "seconds": round(time.monotonic() - t0, 3),
        }
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
        final = args.output_dir / args.name
        reports.save_atomically(staging, final)
    print(f"retrain: model, labels, logs and plots in {final}/ ({time.monotonic() - t0:.1f} s); "
          f"try: ./evaluate.sh --model_dir {final} IMAGE")
    return 0


if __name__ == "__main__":
    main_guard("retrain", main)
