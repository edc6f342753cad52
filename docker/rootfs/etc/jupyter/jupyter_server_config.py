"""Jupyter Server settings of the image: JupyterLab (the default command) and jupyterhub-singleuser."""

import os

c = get_config()  # noqa: F821 - provided by Jupyter
if "JUPYTERHUB_SERVICE_URL" not in os.environ:  # under a hub, the spawner chooses address and port
    c.ServerApp.ip = "0.0.0.0"
    c.ServerApp.port = int(os.environ.get("JUPYTER_PORT", "8888"))
c.ServerApp.open_browser = False
c.ServerApp.root_dir = os.environ.get("DL_WORKDIR", os.getcwd())
# A token is always required: JUPYTER_TOKEN if set and not empty, else a random one (printed).
c.ServerApp.terminado_settings = {"shell_command": ["/bin/bash"]}
# No trash folder: a container's deleted files would only fill the home volume.
c.FileContentsManager.delete_to_trash = False
# Offline images: the extension manager lists what is installed, and installs nothing from PyPI
# (pip install in a terminal or a notebook still works). The news prompt is off in
# /opt/venv/share/jupyter/lab/settings/overrides.d/deeplearning.json.
c.LabApp.extension_manager = "readonly"
