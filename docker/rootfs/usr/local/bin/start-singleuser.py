#!/opt/venv/bin/python
"""A JupyterHub single-user server (jupyterhub-singleuser): what a spawner runs.

jupyter/docker-stacks' start-singleuser.py: the hub passes its settings in JUPYTERHUB_* variables;
NOTEBOOK_ARGS adds arguments (split like a shell would), as do this command's own arguments.
The default command (start-notebook.py) comes here by itself when a hub started the container.
"""

import os
import shlex
import sys

command = ["jupyterhub-singleuser", *shlex.split(os.environ.get("NOTEBOOK_ARGS", "")), *sys.argv[1:]]
os.execvp(command[0], command)
