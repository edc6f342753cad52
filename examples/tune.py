"""Hyperparameter tuning of the retrain head: grid search, random search and hyperopt (TPE).

    ./tune.sh                               the embedded dataset, the default backbone
    ./tune.sh --image_dir data/simpsons --n_iter 20 --seed 1

What it shows: the new final layer of ./retrain.sh is a softmax classifier trained by stochastic
gradient descent on the cached bottlenecks, so trying settings is cheap. We tune its learning rate
(eta0) and L2 penalty (alpha) three ways with the same budget, scoring each setting by 3-fold
cross-validation on the training+validation images, then check the winner on the test images:
- GridSearchCV tries every point of a fixed grid;
- RandomizedSearchCV samples settings at random (log-uniform);
- hyperopt's Tree-structured Parzen Estimator samples where good settings were found before.
With the same --seed the results are the same on every run.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from dlkit import assets, bottlenecks, dataset, engine
from dlkit.errors import UserError, main_guard

GRID = {"eta0": [0.001, 0.01, 0.1], "alpha": [1e-5, 1e-4, 1e-3]}


def features(image_dir, backbone, cache_dir):
    """(X, y, labels, is_test) from the bottleneck cache, computing what is missing."""
    classes = dataset.scan(image_dir)
    labels = sorted(classes)
    spec, runs_on = assets.backbone_spec(backbone), engine.choose(backbone)  # the engine ./retrain.sh uses
    files = [f for label in labels for f in classes[label]]
    cache = bottlenecks.BottleneckCache(cache_dir, backbone, runs_on)
    x, kept, _, _ = bottlenecks.compute(files, engine.predictor(backbone, runs_on),  # made only if needed
                                        spec["input_size"], spec["features"], cache, 32)
    label_of = {f: i for i, label in enumerate(labels) for f in classes[label]}
    y = np.array([label_of[f] for f in kept])
    is_test = np.array([dataset.which_set(f.relative_to(image_dir).as_posix(), 10, 10) == "testing" for f in kept])
    return x, y, labels, is_test


def classifier(seed, **params):
    from sklearn.linear_model import SGDClassifier
    return SGDClassifier(loss="log_loss", penalty="l2", learning_rate="constant", max_iter=50, tol=None,
                         random_state=seed, **params)


def run_searches(x, y, seed, n_iter):
    """{method: (best params, best CV accuracy, fits, seconds, fitted best model)}."""
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
    from scipy.stats import loguniform
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, StratifiedKFold, cross_val_score

    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    results = {}

    t = time.monotonic()
    grid = GridSearchCV(classifier(seed), GRID, cv=cv).fit(x, y)
    results["grid"] = (grid.best_params_, grid.best_score_, len(grid.cv_results_["params"]),
                       time.monotonic() - t, grid.best_estimator_)

    t = time.monotonic()
    rand = RandomizedSearchCV(classifier(seed), {"eta0": loguniform(1e-4, 1), "alpha": loguniform(1e-6, 1e-2)},
                              n_iter=n_iter, cv=cv, random_state=seed).fit(x, y)
    results["random"] = (rand.best_params_, rand.best_score_, n_iter, time.monotonic() - t, rand.best_estimator_)

    t = time.monotonic()

    def objective(params):
        score = cross_val_score(classifier(seed, **params), x, y, cv=cv).mean()
        return {"loss": -score, "status": STATUS_OK}

    trials = Trials()
    best = fmin(objective, {"eta0": hp.loguniform("eta0", np.log(1e-4), 0),
                            "alpha": hp.loguniform("alpha", np.log(1e-6), np.log(1e-2))},
                algo=tpe.suggest, max_evals=n_iter, trials=trials, rstate=np.random.default_rng(seed),
                show_progressbar=False)
    best = {k: float(v) for k, v in best.items()}
    model = classifier(seed, **best).fit(x, y)
    results["hyperopt"] = (best, -min(trials.losses()), n_iter, time.monotonic() - t, model)
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image_dir", type=Path)
    p.add_argument("--backbone")
    p.add_argument("--bottleneck_dir", type=Path, default=Path("models/.bottlenecks"))
    p.add_argument("--n_iter", type=int, default=9, help="settings tried by random search and hyperopt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.n_iter < 1:
        p.error("--n_iter must be at least 1")
    image_dir = args.image_dir or assets.dataset_root()
    backbone = args.backbone or assets.default_backbone()
    x, y, labels, is_test = features(image_dir, backbone, args.bottleneck_dir)
    if is_test.all() or not is_test.any():
        raise UserError("the dataset is too small to keep a test set apart")
    results = run_searches(x[~is_test], y[~is_test], args.seed, args.n_iter)

    rows = []
    for method, (params, cv_score, fits, seconds, model) in results.items():
        rows.append({"method": method, "eta0": params["eta0"], "alpha": params["alpha"], "cv_accuracy": cv_score,
                     "test_accuracy": float(model.score(x[is_test], y[is_test])), "settings_tried": fits,
                     "seconds": round(seconds, 2)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"tune: {len(y)} images, {len(labels)} classes, backbone {backbone}; "
          f"{int((~is_test).sum())} for 3-fold cross-validation, {int(is_test.sum())} for testing")
    print(f"{'method':10} {'eta0':>10} {'alpha':>10} {'CV acc':>8} {'test acc':>9} {'tried':>6} {'seconds':>8}")
    for r in rows:
        print(f"{r['method']:10} {r['eta0']:10.3g} {r['alpha']:10.3g} {r['cv_accuracy']:8.1%} "
              f"{r['test_accuracy']:9.1%} {r['settings_tried']:6d} {r['seconds']:8.2f}")
    return 0


if __name__ == "__main__":
    main_guard("tune", main)
