"""JupyterHub for a classroom on one VM: each user gets their own container of rucka/deeplearning.

Started by deploy/jupyterhub/docker-compose.yml; every setting a classroom changes comes from the
environment (the compose file's .env):
  DL_IMAGE         the single-user image (rucka/deeplearning:cpu; :cuda on a GPU VM)
  HUB_ADMINS       comma-separated admin users (they add and remove users at /hub/admin)
  HUB_USERS        comma-separated users let in from the start (more: the admin page)
  DL_MEM_LIMIT     memory per user (default 3G: ./retrain.sh's first run on flower_photos peaks
                   at 1.5 GiB, a notebook kernel with a model some 300 MiB more)
  DL_CPU_LIMIT     CPUs per user (default 2)
  DL_IDLE_TIMEOUT  seconds before an idle server is stopped (default 3600); its home stays
  DL_NETWORK       the Docker network of the hub and the users' containers (set by the compose file)
  DL_PREFIX        names of each user's container (PREFIXNAME) and home volume (PREFIXNAME-home);
                   default deeplearning-
Nobody else gets in: only the users named (HUB_USERS, HUB_ADMINS, or added by an admin) log in,
each setting a password at first login that is checked ever after (FirstUseAuthenticator, bcrypt):
hand out the names, and have each log in at the start of the session. Secrets are made, never
written here: the cookie secret at first start (a file in the hub's volume), the proxy's token and the
culler's token by the hub at each start.
Local changes: files in /srv/jupyterhub/config.d/*.py are read last (mount a folder there).
"""

import glob
import os
import sys

c = get_config()  # noqa: F821 - provided by JupyterHub

# ---- the users' containers ---------------------------------------------------------------------
c.JupyterHub.spawner_class = "docker"
c.DockerSpawner.image = os.environ.get("DL_IMAGE", "rucka/deeplearning:cpu")
c.DockerSpawner.network_name = os.environ.get("DL_NETWORK", "deeplearning-hub")
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.remove = True  # a stopped server's container goes; its home volume stays
prefix = os.environ.get("DL_PREFIX", "deeplearning-")
c.DockerSpawner.name_template = prefix + "{username}"
# A volume per user over /home/jovyan: the image's start script puts the teaching material into a
# new one, and leaves the user's own files alone afterwards.
c.DockerSpawner.volumes = {prefix + "{username}-home": "/home/jovyan"}
c.DockerSpawner.notebook_dir = "/home/jovyan/work"
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = os.environ.get("DL_MEM_LIMIT", "3G")
c.Spawner.cpu_limit = float(os.environ.get("DL_CPU_LIMIT", "2"))
c.Spawner.start_timeout = 180  # the first start of a user copies the material into their volume
c.Spawner.http_timeout = 120

# ---- the hub and its proxy -------------------------------------------------------------------
c.JupyterHub.bind_url = "http://:8000"
c.JupyterHub.hub_ip = "0.0.0.0"  # the users' containers reach the hub over the Docker network
c.JupyterHub.hub_connect_ip = os.environ.get("HUB_CONNECT_IP", "jupyterhub")
c.JupyterHub.db_url = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "/srv/jupyterhub/jupyterhub_cookie_secret"


# ---- who gets in ------------------------------------------------------------------------------
def names(variable):
    return {u.strip() for u in os.environ.get(variable, "").split(",") if u.strip()}


c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
c.FirstUseAuthenticator.create_users = False  # an unknown name is refused, whatever the password
c.FirstUseAuthenticator.min_password_length = 8
c.Authenticator.admin_users = names("HUB_ADMINS")
c.Authenticator.allowed_users = names("HUB_USERS") | names("HUB_ADMINS")

# ---- idle servers stop, so the VM's memory comes back ----------------------------------------
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={int(os.environ.get('DL_IDLE_TIMEOUT', '3600'))}",
        ],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]

for path in sorted(glob.glob("/srv/jupyterhub/config.d/*.py")):
    load_subconfig(path)  # noqa: F821 - provided by JupyterHub
