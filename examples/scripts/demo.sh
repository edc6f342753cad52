#!/bin/bash
# The talk's main demo on the image's embedded dataset: retrain the final layer of an ImageNet
# network (./retrain.sh), then label one image of every category with it (./evaluate.sh).
# Extra arguments go to ./retrain.sh, e.g. ./demo.sh --how_many_training_steps 500
set -euo pipefail
cd "$(dirname "$0")"
./retrain.sh "$@"
dataset=$(dl-assets path dataset)
samples=()
for class_dir in "$dataset"/*/; do
  samples+=("$(find "$class_dir" -type f ! -name '.*' | sort | head -n 1)")
done
echo
echo "Labelling one image of each category with models/retrained:"
./evaluate.sh --model_dir models/retrained --top_k 3 "${samples[@]}"
