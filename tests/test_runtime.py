"""How the image runs: user, PID 1, commands, stop, bind mounts."""

import os
import time

from support.containers import IMAGE, NB_GID, NB_UID, NB_USER, WORKDIR, docker, run, running, wait_for


def test_runs_as_the_non_root_user(host):
    user = host.user()
    assert (user.name, user.uid, user.gid) == (NB_USER, NB_UID, NB_GID) == ("jovyan", 1000, 100)
    assert user.home == f"/home/{NB_USER}" and WORKDIR.startswith(user.home)


def test_tini_is_pid_1(host):
    cmdline = host.file("/proc/1/cmdline").content.split(b"\0")
    assert os.path.basename(cmdline[0].decode()) == "tini"


def test_no_process_runs_as_root(host):
    # Every process's real and effective uid, from /proc (ps is not in the image).
    out = host.check_output("grep -h '^Uid:' /proc/[0-9]*/status")
    uids = {int(v) for line in out.splitlines() for v in line.split()[1:3]}
    assert 0 not in uids


def test_workdir_holds_the_teaching_layout(host):
    assert host.check_output("pwd") == WORKDIR
    for d in ("examples", "data", "models"):
        f = host.file(f"{WORKDIR}/{d}")
        assert f.is_directory and f.user == "jovyan"


def test_a_script_runs_instead_of_jupyter():
    p = run(command=["python", "-c", "import sys; print(sys.prefix)"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "/opt/venv"


def test_tensorflows_cpp_warnings_stay_out_of_a_programs_output():
    # TensorFlow warns on stderr of any allocation over 10% of the host's free memory: a busy page
    # cache made evaluate.sh print four such lines once. Allocate 12% of all memory to provoke it.
    code = (
        "import tensorflow as tf\n"
        "total = int(open('/proc/meminfo').read().split()[1]) * 1024\n"
        "x = tf.zeros([total * 12 // 100], tf.uint8)\n"
        "print(x.shape[0] > 0)\n"
    )
    p = run(command=["python", "-c", code])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "True"
    assert p.stderr.strip() == ""


def test_exit_code_of_the_command_is_passed_through():
    assert run(command=["bash", "-c", "exit 7"]).returncode == 7


def test_docker_stop_ends_jupyter_within_10_seconds():
    with running() as c:
        wait_for(lambda: "Jupyter Server" in c.logs(), 60, what="jupyter to start")
        t = time.monotonic()
        docker("stop", c.id, timeout=30)
        elapsed = time.monotonic() - t
        state = c.inspect()["State"]
    assert elapsed < 10, f"docker stop took {elapsed:.1f} s"
    assert state["ExitCode"] != 137, "killed by SIGKILL: SIGTERM was not handled"


def test_bind_mount_files_belong_to_the_requested_host_uid(tmp_path):
    # The host user's own folder: ours when not root; as root (CI), a folder of uid 4321.
    uid, gid = (os.getuid(), os.getgid()) if os.getuid() else (4321, 4321)
    out = tmp_path / "models"
    out.mkdir()
    os.chown(out, uid, gid)
    p = run(
        "--user",
        "root",
        "-e",
        f"NB_UID={uid}",
        "-e",
        f"NB_GID={gid}",
        "-v",
        f"{out}:{WORKDIR}/models",
        command=["bash", "-c", "id -u; id -g; echo trained > models/model.txt; touch examples/mine"],
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [str(uid), str(gid)]
    st = (out / "model.txt").stat()
    assert (st.st_uid, st.st_gid) == (uid, gid)


def test_nb_uid_0_is_refused_and_root_is_dropped():
    p = run("--user", "root", "-e", "NB_UID=0", command=["id", "-u"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1000"
    assert "NB_UID=0 is not allowed" in p.stderr


def test_an_arbitrary_uid_gets_a_writable_home():
    p = run("--user", "5555:5555", command=["bash", "-c", "touch ~/probe && echo $HOME"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "/tmp/home-5555"


def test_image_config(image):
    cfg = image["Config"]
    assert cfg["User"] == "1000"
    assert cfg["Entrypoint"] == ["tini", "-g", "--", "start.sh"]
    assert cfg["Healthcheck"]["Test"] == ["CMD", "healthcheck.py"]
    assert set(cfg["ExposedPorts"]) == {"8888/tcp", "6006/tcp"}
    assert IMAGE.split(":")[0] in " ".join(image["RepoTags"])
