#!/bin/bash
# ./tune.sh --help tells all; the program and its explanation are in examples/tune.py.
exec python "$(dirname "$0")/examples/tune.py" "$@"
