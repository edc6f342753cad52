"""The frozen backbone's engine: ONNX Runtime on the network converted at build time, or TensorFlow.

The backbone only computes features (it is frozen), so any engine that runs the same network gives
the same features, and ONNX Runtime runs them about 2.5 times faster than TensorFlow on a laptop
CPU. The image converts each backbone once, at build time (`export_onnx`, `dl-assets engines`), into
features.onnx beside its weights; the asset index records it. TensorFlow still trains the new layer,
and the saved model stays a plain Keras model.

- `choose(backbone, wanted)`: the engine that runs, "onnx" or "tensorflow" (`decide` is its rule).
- `predictor(backbone, engine)`: predict(images) -> features, the engine made when first needed;
  `onnx_features(path)`: the same through ONNX Runtime, at once.
- `export_onnx(model, path)`: a Keras feature extractor as an ONNX file (build time: tf2onnx).
- `save_head(folder, layer, backbone)`, `labeller(folder, n_labels, wanted)`: a model saved by
  retrain.py labels images with its backbone in ONNX Runtime and its new layer in NumPy, with no
  TensorFlow to import (`head_problem` says when it cannot: then Keras loads model.keras).
"""

import importlib.util
import platform
from pathlib import Path

import numpy as np

from .errors import UserError
from .machine import gpu_devices

ENGINES = ("auto", "onnx", "tensorflow")
ONNX_FILE = "features.onnx"
HEAD_FILE = "head.npz"  # beside model.keras: its new layer's weights, and the backbone they follow


def decide(wanted, converted, runtime_problem, gpu):
    """The engine for `wanted` (auto, onnx, tensorflow), given what there is: the converted network,
    ONNX Runtime (`runtime_problem`: None, or why it cannot run here), a GPU (where TensorFlow runs
    the backbone). Asking for onnx where it cannot run is a one-line error; auto falls back to
    TensorFlow."""
    if wanted not in ENGINES:
        raise UserError(f"--engine must be one of {', '.join(ENGINES)} (not {wanted!r})")
    missing = (
        "this image has no ONNX file for this backbone (converted at build time)" if not converted else runtime_problem
    )
    if wanted == "onnx" and missing:
        raise UserError(f"--engine onnx: {missing}; use --engine tensorflow")
    if wanted == "tensorflow" or (wanted == "auto" and (missing or gpu)):
        return "tensorflow"
    return "onnx"


def runtime_problem(installed, machine, cpuinfo):
    """Why ONNX Runtime cannot run here, or None. On arm64 its CPU probe reads /proc/cpuinfo, and an
    old emulator (qemu < 8) shows the host's x86 one there: ONNX Runtime then crashes at import, so
    the check comes before it."""
    if not installed:
        return "ONNX Runtime is not installed in this image"
    if machine in ("aarch64", "arm64") and "CPU implementer" not in cpuinfo:
        return "ONNX Runtime cannot read this CPU (an arm64 emulator with another machine's /proc/cpuinfo)"
    return None


def runtime_problem_here():
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        cpuinfo = ""
    return runtime_problem(importlib.util.find_spec("onnxruntime") is not None, platform.machine(), cpuinfo)


def onnx_file(backbone):
    """The converted network of an installed backbone, or None."""
    from .assets import asset_entry

    path = (asset_entry(backbone) or {}).get("onnx")
    return Path(path) if path and Path(path).is_file() else None


def choose(backbone, wanted="auto"):
    return decide(
        wanted,
        onnx_file(backbone) is not None,
        runtime_problem_here(),
        bool(gpu_devices()),
    )


def onnx_features(path, threads=0):
    """predict(images) -> features: the converted backbone in ONNX Runtime (0 threads: its default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only
    # Its threads sleep between operators instead of spinning: the images are decoded by threads
    # of our own on the same cores (measured: 2,000 images, 9.3 -> 8.4 s on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def predict(images):
        return session.run(None, {name: np.asarray(images, np.float32)})[0]

    return predict


def predictor(backbone, runs_on):
    """predict(images) -> features, by the engine chosen; the engine is made at the first call (a
    run whose features are all cached makes none)."""
    made = []

    def predict(images):
        if not made:
            if runs_on == "onnx":
                made.append(onnx_features(onnx_file(backbone)))
            else:
                from .assets import load_backbone

                made.append(load_backbone(backbone)[0].predict_on_batch)
        return made[0](images)

    return predict


def save_head(folder, layer, backbone):
    """Beside folder/model.keras: the weights of its new layer (a Dense layer followed by softmax),
    the backbone and the digest of its weights that it was trained on, and model.keras's digest,
    so that a changed model.keras is never labelled by an outdated copy."""
    from .assets import asset_entry
    from .bottlenecks import content_hash

    kernel, bias = (np.asarray(w, np.float32) for w in layer.get_weights())
    np.savez(
        Path(folder) / HEAD_FILE,
        kernel=kernel,
        bias=bias,
        backbone=backbone,
        weights=(asset_entry(backbone) or {}).get("digest", ""),
        model=content_hash(Path(folder) / "model.keras"),
    )


def head_problem(head, model_digest, installed_digest, n_labels):
    """Why the head file `head` (a mapping, or None) cannot stand for model.keras here, or None."""
    if head is None:
        return f"the model has no readable {HEAD_FILE} (saved by an older image, or copied without it)"
    if str(head["model"]) != model_digest:
        return f"model.keras changed since ./retrain.sh saved it with {HEAD_FILE}"
    if not installed_digest or str(head["weights"]) != installed_digest:
        return f"backbone {head['backbone']} is not installed here with the weights the model was trained on"
    if head["kernel"].shape[1] != n_labels or head["bias"].shape != (n_labels,):
        return f"the model has {head['kernel'].shape[1]} outputs but labels.txt has {n_labels} labels"
    return None


def labeller(folder, n_labels, wanted="auto"):
    """(predict(images) -> probabilities, input size) for the model saved in folder, its backbone
    by ONNX Runtime and its new layer in NumPy; None where Keras must load model.keras instead:
    --engine tensorflow, a GPU, no ONNX file or head file that fits (`head_problem`). Asking for
    onnx where it cannot run is a one-line error."""
    from .assets import asset_entry, backbone_spec
    from .bottlenecks import content_hash

    if wanted == "tensorflow":
        return None
    try:
        with np.load(Path(folder) / HEAD_FILE, allow_pickle=False) as f:
            head = {k: f[k] for k in ("kernel", "bias", "backbone", "weights", "model")}
        backbone = str(head["backbone"])
    except (OSError, ValueError, KeyError, EOFError):
        head = backbone = None
    try:
        model_digest = content_hash(Path(folder) / "model.keras")
    except OSError:
        model_digest = ""
    entry = (asset_entry(backbone) or {}) if backbone else {}
    problem = head_problem(head, model_digest, entry.get("digest", ""), n_labels)
    if problem:
        if wanted == "onnx":
            raise UserError(f"--engine onnx: {problem}; use --engine tensorflow")
        return None
    if choose(backbone, wanted) != "onnx":
        return None
    features, kernel, bias = onnx_features(onnx_file(backbone)), head["kernel"], head["bias"]

    def predict(images):
        logits = features(images) @ kernel + bias
        e = np.exp(logits - logits.max(axis=1, keepdims=True))  # softmax, as the saved model's last layer
        return e / e.sum(axis=1, keepdims=True)

    return predict, backbone_spec(backbone)["input_size"]


def export_onnx(model, path, opset=17):
    """The Keras feature extractor `model` as an ONNX file (tf2onnx), its features unchanged."""
    import onnx
    import tensorflow as tf
    import tf2onnx

    spec = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="images")]
    function = tf.function(lambda images: model(images, training=False), input_signature=spec)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=spec, opset=opset)
    # Tensors a layer computes when it is built (EfficientNet's Normalization: its mean and
    # variance) reach the graph as captured constants, which tf2onnx leaves as inputs: made constants.
    graph = function.get_concrete_function().graph
    captured = {inner.name: outer for outer, inner in graph.captures if outer.dtype != tf.resource}
    for given in [i for i in proto.graph.input if i.name in captured]:
        proto.graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(captured[given.name]), given.name))
        proto.graph.input.remove(given)
    canonical_names(proto.graph)
    onnx.checker.check_model(proto)
    Path(path).write_bytes(proto.SerializeToString())


def canonical_names(graph):
    """Name every node and tensor by its place in the graph (tf2onnx numbers the names it makes
    with counters that differ from run to run): the same network gives the same bytes on every build."""
    fixed = {v.name for v in [*graph.input, *graph.output]} | {""}
    names = {}

    def name(old):
        return old if old in fixed else names.setdefault(old, f"t{len(names)}")

    for i, node in enumerate(graph.node):
        node.name = f"n{i}"
        node.input[:] = [name(x) for x in node.input]
        node.output[:] = [name(x) for x in node.output]
    used = sorted((int(names[w.name][1:]), w) for w in graph.initializer if w.name in names)
    weights = []
    for _, w in used:
        w.name = names[w.name]
        weights.append(w.SerializeToString())
    del graph.initializer[:]
    for data in weights:
        graph.initializer.add().ParseFromString(data)
    del graph.value_info[:]  # shapes of inner tensors: optional, and named by the old names
    for value in [*graph.input, *graph.output]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = "batch"  # the only unknown dimension: the number of images
    graph.name = "features"
