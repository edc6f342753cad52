"""TensorBoard, started the same way users (and docker-compose) start it."""
import json

from conftest import http_get, running


def test_tensorboard_serves_the_models_folder():
    with running("-p", "127.0.0.1::6006", command=["start-tensorboard.sh"]) as c:
        c.wait_healthy(timeout=90)
        status, body = http_get(c.url(6006, "/data/environment"))
        assert status == 200
        assert json.loads(body)["data_location"] == "/home/jovyan/work/models"
        assert http_get(c.url(6006, "/"))[0] == 200
        log = c.inspect()["State"]["Health"]["Log"][-1]
        assert "tensorboard:ok" in log["Output"]
