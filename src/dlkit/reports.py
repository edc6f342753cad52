"""What a training run shows and leaves behind: the classic lines, plots, metrics, an atomic save.

- `report_steps`: the steps that print them; `step_lines`: the classic retrain.py progress
  lines, and the history row they stand for.
- `per_class_accuracy`: each class's own accuracy, next to the classic overall line.
- `ema`: TensorBoard's smoothing; `plot_curves`, `plot_confusion`: PNGs of a run.
- `output_folder`: a private staging folder for a run's files, checked before the slow part (and
  the staging folders of runs that died, killed by the kernel or a power cut, removed);
  `save_atomically`: the finished folder replaces the old one in one step, or not at all.
"""

import contextlib
import fcntl
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import numpy as np

from .errors import UserError


def fmt(acc, n):
    return "n/a (N=0: no images in this set)" if acc is None else f"{acc * 100:.1f}% (N={n})"


def report_steps(steps, every):
    """The steps that report: 0, every `every` steps, and the last (as the classic did)."""
    return sorted({0, steps - 1, *range(0, steps, every)})


def step_lines(step, accuracy, loss, val_accuracy, val_loss, n_val):
    """Print the classic lines of one reported step; return its history row."""
    val_accuracy, val_loss = (val_accuracy, val_loss) if n_val else (None, None)
    print(f"Step {step}: Train accuracy = {accuracy * 100:.1f}%")
    print(f"Step {step}: Cross entropy = {loss:f}")
    print(f"Step {step}: Validation accuracy = {fmt(val_accuracy, n_val)}")
    return {
        "step": int(step),
        "train_accuracy": accuracy,
        "train_cross_entropy": loss,
        "validation_accuracy": val_accuracy,
        "validation_cross_entropy": val_loss,
    }


def accuracy_and_loss(model, x, y):
    """(accuracy, cross entropy) of a model giving probabilities, or (None, None) with no images."""
    if len(y) == 0:
        return None, None
    p = np.asarray(model(x, training=False))
    loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))))
    return float(np.mean(p.argmax(1) == y)), loss


def per_class_accuracy(y_true, y_pred, labels, set_name="test"):
    """{label: accuracy on its own images (recall), or None when the set has none of it}, and the
    line saying so: a high overall accuracy can hide a class the model always gets wrong."""
    out, parts = {}, []
    for i, label in enumerate(labels):
        mine = y_true == i
        out[label] = float(np.mean(y_pred[mine] == i)) if mine.any() else None
        parts.append(
            f"{label} {out[label] * 100:.1f}% (N={int(mine.sum())})"
            if mine.any()
            else f"{label} n/a (no {set_name} image of this class)"
        )
    print(f"Per-class {set_name} accuracy: {', '.join(parts)}")
    return out


def ema(values, weight=0.6):
    """Exponential moving average: each point is weight * previous + (1 - weight) * value.

    This is TensorBoard's "smoothing" slider; it shows the trend of a noisy curve.
    """
    out, last = [], values[0] if len(values) else 0
    for v in values:
        last = weight * last + (1 - weight) * v
        out.append(last)
    return np.array(out)


def import_plotting():
    """Import what the plots need (matplotlib, scikit-learn's confusion matrix), ahead of them."""
    import matplotlib.pyplot  # noqa: F401
    from sklearn.metrics import ConfusionMatrixDisplay  # noqa: F401


def plot_curves(history, path):
    """Accuracy and cross entropy per step, training and validation, raw and smoothed."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in ((axes[0], "accuracy", "Accuracy"), (axes[1], "cross_entropy", "Cross entropy")):
        for split, colour in (("train", "tab:blue"), ("validation", "tab:orange")):
            steps = [h["step"] for h in history if h[f"{split}_{key}"] is not None]
            values = [h[f"{split}_{key}"] for h in history if h[f"{split}_{key}"] is not None]
            if values:
                ax.plot(steps, values, color=colour, alpha=0.25, label=f"{split} (raw)")
                ax.plot(steps, ema(values), color=colour, label=f"{split} (smoothed)")
        ax.set_title(title)
        ax.set_xlabel("training step")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(y_true, y_pred, labels, path, title):
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 3, 1.2 * len(labels) + 2))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=range(len(labels)),
        display_labels=labels,
        ax=ax,
        colorbar=False,
        xticks_rotation=45,
        cmap="Blues",
    )
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@contextlib.contextmanager
def output_folder(output_dir, name, image_dir, other_folders=()):
    """A staging folder under output_dir for a run's files, removed afterwards (save_atomically
    moves it into place first when the run succeeds).

    The folders are checked now, before the slow part, so that a typo costs seconds, not minutes:
    none may be a file, be inside the dataset (it would become a class) or be read-only.
    """
    for folder in filter(None, (output_dir, *other_folders)):
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{folder} is a file, not a folder")
        if folder.resolve().is_relative_to(image_dir.resolve()):
            raise UserError(
                f"{folder} is inside the dataset {image_dir}: it would become a class; write models somewhere else"
            )
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise UserError(f"folder {folder} is not writable")
    remove_stale_staging(output_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=output_dir))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the model should not be
    mine = os.open(staging, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # a file system without locks: no clean-up, no harm
            fcntl.flock(mine, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held while this run lives, however it dies
        yield staging
    finally:
        os.close(mine)
        shutil.rmtree(staging, ignore_errors=True)


def remove_stale_staging(output_dir):
    """Remove the staging folders in output_dir that no living run holds (their lock goes with
    the process, even when the kernel kills it): a run that died leaves nothing behind for long."""
    stale = []
    for folder in output_dir.glob(".*.tmp-*"):
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a run in progress (or a file system without locks): left alone
        finally:
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        stale.append(folder.name)
    if stale:
        print(
            f"note: removed {len(stale)} unfinished folder{'s' * (len(stale) > 1)} of runs that died "
            f"({', '.join(sorted(stale)[:3])})",
            file=sys.stderr,
        )


def save_atomically(staging, final):
    """Swap the finished staging folder in for final; the old model survives any interruption."""
    old = final.with_name(f".{final.name}.old")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        if old.exists():
            shutil.rmtree(old)
        if final.exists():
            final.rename(old)
        staging.rename(final)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    shutil.rmtree(old, ignore_errors=True)
