#!/bin/bash
# The default command: JupyterLab on 0.0.0.0:$JUPYTER_PORT (8888), always with a token:
# JUPYTER_TOKEN when set, else a random one printed in the log line with the URL.
# Settings live in /etc/jupyter/jupyter_server_config.py; extra arguments go to `jupyter lab`.
set -euo pipefail
exec jupyter lab "$@"
