#!/bin/bash
# ./evaluate.sh --help tells all; the program and its explanation are in examples/evaluate.py.
exec python "$(dirname "$0")/examples/evaluate.py" "$@"
