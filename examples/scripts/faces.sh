#!/bin/bash
# ./faces.sh --help tells all; the program and its explanation are in examples/faces.py.
exec python "$(dirname "$0")/examples/faces.py" "$@"
