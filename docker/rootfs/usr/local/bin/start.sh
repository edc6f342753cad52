#!/bin/bash
# Entrypoint, run under tini: prepare the user and their home, then exec the command (JupyterLab
# by default). The settings are jupyter/docker-stacks' own, so their habits work here:
#
# Started as root (`--user root`, compose here, a hub that asks for it) it refits the user, then
# drops root for good:
#   NB_USER           user name (default jovyan); another name renames jovyan, home /home/NB_USER
#   NB_UID / NB_GID   uid and gid to run as (default 1000 / 100), e.g. the host user's, so that files
#                     written to bind mounts belong to them
#   CHOWN_HOME=yes    give the home folder to NB_UID:NB_GID (CHOWN_HOME_OPTS, e.g. -R)
#   CHOWN_EXTRA       comma-separated folders to give to NB_UID:NB_GID (CHOWN_EXTRA_OPTS)
#   GRANT_SUDO=yes    passwordless sudo for the user (off by default)
# Started as any other uid (the default 1000, `--user 5000:100`, OpenShift's `--user 5000:0`) it
# runs as that uid: home, work, models and the venv are writable for gid 100 and gid 0 alike
# (fix-permissions); a uid without either group gets a home of its own under /tmp.
# Either way:
#   NB_UMASK          umask of the command (default 022)
#   JUPYTER_ENV_VARS_TO_UNSET  comma-separated variables to remove before the command runs
#   hooks             /usr/local/bin/start-notebook.d/* (as the starting user) and
#                     /usr/local/bin/before-notebook.d/* (as root when started as root), *.sh
#                     sourced, other executables run
# A home without the teaching material (a fresh volume mounted over /home/jovyan, as JupyterHub's
# do) gets it, and the baked assets are linked where Keras and gensim look (seed-home).
set -euo pipefail

log() { printf 'start.sh: %s\n' "$*" >&2; }
yes_() { [ "${1:-}" = yes ] || [ "${1:-}" = 1 ]; }

run_hooks() {
  local f
  [ -d "$1" ] || return 0
  for f in "$1"/*; do
    case "$f" in
      *.sh) # shellcheck disable=SC1090  # the user's own hooks
            source "$f" ;;
      *) if [ -x "$f" ]; then "$f"; fi ;;
    esac
  done
}

unset_requested() {
  local v
  IFS=, read -r -a vars <<<"${JUPYTER_ENV_VARS_TO_UNSET:-}"
  for v in "${vars[@]}"; do [ -n "$v" ] && unset "$v"; done
  unset JUPYTER_ENV_VARS_TO_UNSET
}

umask "${NB_UMASK:-022}"
image_user=jovyan
NB_USER=${NB_USER:-$image_user}
run_hooks /usr/local/bin/start-notebook.d

if [ "$(id -u)" = 0 ]; then
  uid=${NB_UID:-1000}
  gid=${NB_GID:-100}
  user=$NB_USER
  if [ "$uid" = 0 ]; then
    log "NB_UID=0 is not allowed (nothing runs as root after start); running as $image_user (1000)"
    uid=1000
  fi
  if ! [ -w /etc/passwd ]; then
    tmp_too=""
    [ -w /tmp ] || tmp_too="; and add --tmpfs /tmp (Python needs a writable /tmp)"
    if [ "$uid" != "$(id -u $image_user)" ] || [ "$gid" != "$(id -g $image_user)" ] || [ "$user" != $image_user ]; then
      log "the container's file system is read-only (--read-only): it cannot take uid $uid or user $user; running as $image_user ($(id -u $image_user)) (or use --user $uid:$gid)$tmp_too"
    elif [ -n "$tmp_too" ]; then
      log "the container's file system is read-only (--read-only) and /tmp with it: add --tmpfs /tmp (Python needs a writable /tmp)"
    fi
    user=$image_user uid=$(id -u $image_user) gid=$(id -g $image_user)
  fi
  # Another name: jovyan is renamed, its home moved (or, on a mounted home, linked) to /home/NAME.
  if [ "$user" != $image_user ] && id $image_user >/dev/null 2>&1; then
    usermod --login "$user" $image_user
    if [ ! -e "/home/$user" ]; then
      if mv /home/$image_user "/home/$user" 2>/dev/null; then ln -s "/home/$user" /home/$image_user
      else ln -s /home/$image_user "/home/$user"; fi
    fi
    usermod --home "/home/$user" "$user"
    log "user $image_user renamed $user, home /home/$user"
  fi
  id "$user" >/dev/null 2>&1 || { log "error: no user $user here (was the container restarted with another NB_USER?)"; exit 1; }
  export HOME="/home/$user" NB_USER="$user"
  export DL_WORKDIR="${DL_WORKDIR/#\/home\/$image_user\//$HOME/}"
  case "$PWD/" in "/home/$image_user/"*) cd "$HOME/${PWD#/home/"$image_user"/}" ;; esac
  getent group "$gid" >/dev/null || groupadd --gid "$gid" "$user-host"
  old_uid=$(id -u "$user")
  if [ "$uid" != "$old_uid" ] || [ "$gid" != "$(id -g "$user")" ]; then
    usermod --uid "$uid" --gid "$gid" --append --groups users "$user" 2>/dev/null
    # Only what the image itself owned: bind-mounted user files are never re-owned.
    chown -R --from="$old_uid" "$uid:$gid" "$HOME/"
    log "running as $user with uid $uid, gid $gid"
  fi
  if yes_ "${CHOWN_HOME:-}"; then
    # shellcheck disable=SC2086  # options, word-split on purpose
    chown ${CHOWN_HOME_OPTS:-} "$uid:$gid" "$HOME"
  fi
  IFS=, read -r -a extra <<<"${CHOWN_EXTRA:-}"
  for d in "${extra[@]}"; do
    # shellcheck disable=SC2086
    [ -n "$d" ] && chown ${CHOWN_EXTRA_OPTS:--R} "$uid:$gid" "$d"
  done
  if yes_ "${GRANT_SUDO:-}"; then
    echo "$user ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/added-by-start-script
    log "$user may use sudo (GRANT_SUDO)"
  fi
  run_hooks /usr/local/bin/before-notebook.d
  unset_requested
  setpriv --reuid="$uid" --regid="$gid" --init-groups -- seed-home --if-missing || true
  cd "$PWD" 2>/dev/null || true  # seed-home may have made the work folder anew
  exec setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all -- "$@"
fi

# Not root: whatever uid and gid Docker, a hub or OpenShift gave.
if yes_ "${GRANT_SUDO:-}"; then log "GRANT_SUDO needs the container started as root (--user root)"; fi
name=$(id -un 2>/dev/null) || name=""
if [ "$NB_USER" != "$image_user" ] && [ "$NB_USER" != "$name" ]; then
  log "NB_USER=$NB_USER needs the container started as root (--user root); running as ${name:-uid $(id -u)}"
fi
# A uid the image does not know (OpenShift's) has no name: programs that ask the environment get one.
if [ -z "$name" ]; then export USER="${USER:-$NB_USER}" LOGNAME="${LOGNAME:-$NB_USER}"; fi
if ! [ -w "$HOME" ]; then
  if mkdir -p "/tmp/home-$(id -u)" 2>/dev/null; then
    HOME="/tmp/home-$(id -u)"
    export HOME
  else
    log "neither $HOME nor /tmp is writable (--read-only without --tmpfs /tmp?): add --tmpfs /tmp; going on without a writable home"
  fi
fi
seed-home --if-missing || true
cd "$PWD" 2>/dev/null || true  # seed-home may have made the work folder anew
run_hooks /usr/local/bin/before-notebook.d
unset_requested
exec "$@"
