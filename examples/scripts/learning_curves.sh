#!/bin/bash
# ./learning_curves.sh --help tells all; the program and its explanation are in examples/learning_curves.py.
exec python "$(dirname "$0")/examples/learning_curves.py" "$@"
