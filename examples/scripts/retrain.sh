#!/bin/bash
# ./retrain.sh --help tells all; the program and its explanation are in examples/retrain.py.
exec python "$(dirname "$0")/examples/retrain.py" "$@"
