#!/bin/bash
# ./spacy_nlp.sh --help tells all; the program and its explanation are in examples/spacy_nlp.py.
exec python "$(dirname "$0")/examples/spacy_nlp.py" "$@"
