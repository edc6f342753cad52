# shellcheck shell=sh
# Login shells (bash -l, docker exec ... bash -l, editors' terminals) get the image's Python:
# /etc/profile resets PATH, so the venv goes back in front of it.
case ":$PATH:" in
  *:/opt/venv/bin:*) ;;
  *) PATH="/opt/venv/bin:$PATH" ;;
esac
export PATH VIRTUAL_ENV=/opt/venv
