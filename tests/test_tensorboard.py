"""TensorBoard, started the same way users (and docker-compose) start it."""

import json
import re

from support.containers import WORKDIR, http_get, running, wait_for


def test_tensorboard_serves_the_models_folder():
    with running("-p", "127.0.0.1::6006", command=["start-tensorboard.sh"]) as c:
        c.wait_healthy(timeout=90)
        status, body = http_get(c.url(6006, "/data/environment"))
        assert status == 200
        assert json.loads(body)["data_location"] == f"{WORKDIR}/models"
        assert http_get(c.url(6006, "/"))[0] == 200
        log = c.inspect()["State"]["Health"]["Log"][-1]
        assert "tensorboard:ok" in log["Output"]


def test_tensorboard_plots_the_learning_curves_of_a_retrained_model():
    """What ./retrain.sh logs is what TensorBoard's scalars dashboard shows: the same steps and
    values as the classic lines, under the tags accuracy and cross_entropy."""
    with running("-p", "127.0.0.1::6006", command=["start-tensorboard.sh", "--reload_interval", "1"]) as c:
        for cmd in (
            ["python", "-m", "dlkit.textures", "/tmp/ds", "--per_class", "12"],
            ["./retrain.sh", "--image_dir", "/tmp/ds", "--how_many_training_steps", "30"],
        ):
            p = c.exec(*cmd, timeout=600)
            assert p.returncode == 0, p.stderr
        lines = {
            (int(m[0]), m[1]): float(m[2])
            for m in re.findall(
                r"^Step (\d+): (Train accuracy|Cross entropy|Validation accuracy) = ([\d.]+)", p.stdout, re.M
            )
        }
        c.wait_healthy(timeout=90)

        def scalars(run, tag):
            status, body = http_get(c.url(6006, f"/data/plugin/scalars/scalars?run={run}&tag={tag}"))
            return {step: value for _, step, value in json.loads(body)} if status == 200 else {}

        wait_for(
            lambda: 29 in scalars("retrained/logs/validation", "accuracy"), 60, what="TensorBoard to load the logs"
        )
        status, body = http_get(c.url(6006, "/data/plugin/scalars/tags"))
        tags = json.loads(body)
        assert {run: sorted(t) for run, t in tags.items()} == {
            "retrained/logs/train": ["accuracy", "cross_entropy"],
            "retrained/logs/validation": ["accuracy", "cross_entropy"],
        }
        train, xent = scalars("retrained/logs/train", "accuracy"), scalars("retrained/logs/train", "cross_entropy")
        val = scalars("retrained/logs/validation", "accuracy")
        assert sorted(train) == sorted(val) == [0, 10, 20, 29]
        for step in (0, 10, 20, 29):
            assert round(train[step] * 100, 1) == lines[step, "Train accuracy"]
            assert round(val[step] * 100, 1) == lines[step, "Validation accuracy"]
            assert abs(xent[step] - lines[step, "Cross entropy"]) < 1e-6
