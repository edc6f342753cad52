"""dlkit.session.Helper: a function in a spawned process while the program imports TensorFlow."""

import os
import signal
import subprocess
import sys
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


def test_a_helper_signalled_twice_still_ends_quietly(capfd):
    """`docker stop` signals every process in the container, then the program stops its helper."""
    helper = Helper(time.sleep, 60)
    time.sleep(1.5)
    for _ in range(2):
        os.kill(helper.process.pid, signal.SIGTERM)
    helper.process.join(1)
    assert helper.process.exitcode == 130
    assert "Traceback" not in capfd.readouterr().err


def test_the_helper_takes_more_jobs_and_answers_them_in_order():
    helper = Helper(sum, [1, 2])
    helper.submit(int, "seven")
    helper.submit(max, [4, 9])
    assert helper.result() == 3
    with pytest.raises(ValueError):
        helper.result()
    assert helper.result() == 9
    helper.close()
    helper.process.join(5)
    assert helper.process.exitcode == 0


def test_a_helper_killed_by_the_kernel_is_one_line_and_exit_137(tmp_path):
    """The out-of-memory killer picks the largest process: sometimes the helper. The program then
    says so in one line and exits 137, as when it is killed itself; a job given after is the same."""
    from dlkit.errors import Killed

    helper = Helper(time.sleep, 60)
    time.sleep(1.5)
    os.kill(helper.process.pid, signal.SIGKILL)
    with pytest.raises(Killed, match=r"^its helper process was killed \(SIGKILL\), most likely for want of memory"):
        helper.result()
    with pytest.raises(Killed):
        helper.submit(sum, [1])
    program = tmp_path / "killed.py"
    program.write_text(
        "import os, signal, time\n"
        "from dlkit.errors import main_guard\n"
        "from dlkit.session import Helper\n"
        "def main():\n"
        "    helper = Helper(time.sleep, 60)\n"
        "    time.sleep(1.5)\n"
        "    os.kill(helper.process.pid, signal.SIGKILL)\n"
        "    helper.result()\n"
        "if __name__ == '__main__':\n"
        "    main_guard('prog', main)\n"
    )
    p = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 137
    assert p.stderr.splitlines()[-1].startswith("prog: error: its helper process was killed (SIGKILL)"), p.stderr
    assert "Traceback" not in p.stderr
