"""dlkit.session.Helper: a function in a spawned process while the program imports TensorFlow."""

import time

import pytest

from dlkit.session import Helper


def test_the_helper_answers_with_the_value():
    assert Helper(sum, [1, 2, 3]).result() == 6


def test_the_helper_hands_its_exception_over():
    with pytest.raises(ValueError, match="invalid literal"):
        Helper(int, "seven").result()


def test_a_stopped_helper_ends_at_once_and_quietly(capfd):
    helper = Helper(time.sleep, 60)
    time.sleep(1.5)  # started: its stop signal is answered now (ignored only while it starts)
    t = time.monotonic()
    helper.stop()
    assert time.monotonic() - t < 1 and not helper.process.is_alive()
    assert helper.process.exitcode == 130
    assert "Traceback" not in capfd.readouterr().err
