"""Jupyter Server settings of the image (JupyterLab is the default command)."""
import os

c = get_config()  # noqa: F821 - provided by Jupyter
c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = int(os.environ.get("JUPYTER_PORT", "8888"))
c.ServerApp.open_browser = False
c.ServerApp.root_dir = os.environ.get("DL_WORKDIR", os.getcwd())
# A token is always required: JUPYTER_TOKEN if set and not empty, else a random one (printed).
c.ServerApp.terminado_settings = {"shell_command": ["/bin/bash"]}
