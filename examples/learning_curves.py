"""Reading learning curves: noisy vs smoothed loss, and what overfitting looks like.

    ./learning_curves.sh                     writes models/learning_curves_demo.png
    ./learning_curves.sh --output curves.png --epochs 150

What it shows, on scikit-learn's handwritten digits (8x8 pixels, shipped with the library):
1. Per-batch loss is noisy; an exponential moving average (what TensorBoard's "smoothing" slider
   does) shows the trend.
2. A big network trained long on few examples overfits: training loss keeps falling while
   validation loss bottoms out and climbs. The best epoch is where validation loss is lowest
   (early stopping). Dropout and an L2 penalty keep the two curves closer and the turn later
   (Keras adds the L2 penalty to both reported losses, so compare their shapes, not heights).
"""
import argparse
from pathlib import Path

import numpy as np

from dlkit.assets import import_keras
from dlkit.errors import main_guard
from dlkit.reports import ema


def digits(seed, n_train):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    x_train, x_val, y_train, y_val = train_test_split(x, y, train_size=n_train, random_state=seed, stratify=y)
    return x_train, y_train, x_val, y_val


def mlp(keras, regularized=False):
    reg = keras.regularizers.l2(1e-4) if regularized else None
    layers = [keras.Input((64,))]
    for _ in range(2):
        layers.append(keras.layers.Dense(256, activation="relu", kernel_regularizer=reg))
        if regularized:
            layers.append(keras.layers.Dropout(0.5))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def batch_losses(keras, seed):
    """Loss after every batch of a small network's first epochs: the noisy curve."""
    x, y, _, _ = digits(seed, 1200)
    losses = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            losses.append(logs["loss"])

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[Record()])
    return np.array(losses)


def overfit(keras, seed, epochs, regularized):
    """Training and validation history of a big network on 150 training images."""
    x, y, x_val, y_val = digits(seed, 150)
    keras.utils.set_random_seed(seed)
    return mlp(keras, regularized).fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=32,
                                       verbose=0).history


def plot(noisy, plain, regular, output):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    ax = axes[0]
    ax.plot(noisy, alpha=0.3, label="loss after each batch (raw)")
    ax.plot(ema(noisy, 0.9), label="smoothed (EMA, 0.9)")
    ax.set(title="1. Noisy vs smoothed", xlabel="batch", ylabel="cross entropy")
    ax.legend()
    for ax, h, title in ((axes[1], plain, "2. Overfitting"), (axes[2], regular, "3. Dropout + L2")):
        ax.plot(h["loss"], label="training loss")
        ax.plot(h["val_loss"], label="validation loss")
        best = int(np.argmin(h["val_loss"]))
        ax.axvline(best, color="gray", linestyle="--", label=f"lowest validation loss (epoch {best + 1})")
        ax.set(title=title, xlabel="epoch", ylabel="cross entropy")
        ax.legend()
    axes[2].set_ylim(axes[1].get_ylim())
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=100)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output", type=Path, default=Path("models/learning_curves_demo.png"))
    p.add_argument("--epochs", type=int, default=120)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error("--epochs must be at least 2")
    keras = import_keras()
    noisy = batch_losses(keras, args.seed)
    plain = overfit(keras, args.seed, args.epochs, regularized=False)
    regular = overfit(keras, args.seed, args.epochs, regularized=True)
    plot(noisy, plain, regular, args.output)
    for name, h in (("plain", plain), ("dropout+L2", regular)):
        best = int(np.argmin(h["val_loss"]))
        print(f"{name:11} lowest validation loss {h['val_loss'][best]:.3f} at epoch {best + 1}; at the end: "
              f"training loss {h['loss'][-1]:.3f}, validation loss {h['val_loss'][-1]:.3f}, "
              f"validation accuracy {h['val_accuracy'][-1]:.1%}")
    print(f"plot: {args.output}")
    return 0


if __name__ == "__main__":
    main_guard("learning_curves", main)
