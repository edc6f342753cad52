#!/bin/bash
# ./word_algebra.sh --help tells all; the program and its explanation are in examples/word_algebra.py.
exec python "$(dirname "$0")/examples/word_algebra.py" "$@"
