#!/bin/bash
# Entrypoint, run under tini: prepare the user, then exec the command (Jupyter by default).
#
# Started as the image's user (the default): runs the command as it is.
# Started as root (`--user root`, or compose's default here) it can match a host user so that
# files written to bind mounts belong to them, then drops root for good:
#   NB_UID / NB_GID   uid and gid to run as (default: the image's 1000 / 100)
#   NB_UMASK          umask for the command (default 022)
#   CHOWN_EXTRA       comma-separated folders to give to that uid:gid (recursively), e.g. a
#                     bind mount that belongs to root on the host
# Any other uid (`--user 4321:4321`) works too: HOME falls back to a writable folder.
set -euo pipefail

log() { printf 'start.sh: %s\n' "$*" >&2; }

umask "${NB_UMASK:-022}"

if [ "$(id -u)" = 0 ]; then
  uid=${NB_UID:-1000}
  gid=${NB_GID:-100}
  if [ "$uid" = 0 ]; then
    log "NB_UID=0 is not allowed (nothing runs as root after start); running as ${NB_USER} (1000)"
    uid=1000
  fi
  old_uid=$(id -u "$NB_USER")
  if { [ "$uid" != "$old_uid" ] || [ "$gid" != "$(id -g "$NB_USER")" ]; } && ! [ -w /etc/passwd ]; then
    log "the container's file system is read-only (--read-only): it cannot take uid $uid; running as ${NB_USER} ($old_uid) (or use --user $uid:$gid)"
    uid=$old_uid
    gid=$(id -g "$NB_USER")
  fi
  getent group "$gid" >/dev/null || groupadd --gid "$gid" "${NB_USER}-host"
  if [ "$uid" != "$old_uid" ] || [ "$gid" != "$(id -g "$NB_USER")" ]; then
    usermod --uid "$uid" --gid "$gid" --append --groups users "$NB_USER" 2>/dev/null
    # Only what the image itself owned: bind-mounted user files are never re-owned.
    chown -R --from="$old_uid" "$uid:$gid" "$HOME"
    log "running as ${NB_USER} with uid $uid, gid $gid"
  fi
  IFS=, read -r -a extra <<<"${CHOWN_EXTRA:-}"
  for d in "${extra[@]}"; do
    [ -n "$d" ] && chown -R "$uid:$gid" "$d"
  done
  exec setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all -- "$@"
fi

if ! [ -w "$HOME" ]; then
  if mkdir -p "/tmp/home-$(id -u)" 2>/dev/null; then
    HOME="/tmp/home-$(id -u)"
    export HOME
  else
    log "neither $HOME nor /tmp is writable (--read-only without --tmpfs /tmp?): add --tmpfs /tmp; going on without a writable home"
  fi
fi
exec "$@"
