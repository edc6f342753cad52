#!/bin/bash
# TensorBoard on 0.0.0.0:$TB_PORT (6006) over $TB_LOGDIR (default: models/ in the workdir,
# where ./retrain.sh writes its logs). Extra arguments go to `tensorboard`.
set -euo pipefail
exec tensorboard --logdir "${TB_LOGDIR:-${DL_WORKDIR:-$PWD}/models}" \
  --host 0.0.0.0 --port "${TB_PORT:-6006}" "$@"
