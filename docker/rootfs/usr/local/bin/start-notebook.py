#!/opt/venv/bin/python
"""The default command: a Jupyter server on 0.0.0.0:$JUPYTER_PORT (8888), always with a token
(JUPYTER_TOKEN when set and not empty, else a random one printed in the log with the URL).

jupyter/docker-stacks' start-notebook.py, so their habits work unchanged:
    DOCKER_STACKS_JUPYTER_CMD   lab (default), notebook, nbclassic or server
    NOTEBOOK_ARGS               more arguments, split like a shell would
    RESTARTABLE=yes             start the server again when it exits (File > Shut Down),
                                until the container is stopped
Under JupyterHub (JUPYTERHUB_API_TOKEN is set: a spawner started us) it becomes
start-singleuser.py, so a hub can spawn the image with its default command.
Settings live in /etc/jupyter/jupyter_server_config.py; extra arguments go to the server.
"""

import os
import shlex
import signal
import subprocess
import sys

if "JUPYTERHUB_API_TOKEN" in os.environ:
    os.execvp("start-singleuser.py", ["start-singleuser.py", *sys.argv[1:]])

command = ["jupyter", os.environ.get("DOCKER_STACKS_JUPYTER_CMD", "lab")]
command += shlex.split(os.environ.get("NOTEBOOK_ARGS", "")) + sys.argv[1:]

if os.environ.get("RESTARTABLE") != "yes":
    os.execvp(command[0], command)

stopping = False


def stop(signum, frame):
    global stopping
    stopping = True  # tini -g sends the signal to the server too: it exits, and we do not restart it


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
while True:
    status = subprocess.call(command)
    if stopping:
        sys.exit(status)
    print(
        f"start-notebook.py: the server exited ({status}); RESTARTABLE=yes: starting it again",
        file=sys.stderr,
        flush=True,
    )
