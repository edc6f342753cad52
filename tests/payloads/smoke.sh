set -e
uname -m
python - <<'PY'
import importlib, importlib.metadata as md, json, sys
from dlkit.lock import requirement_names
modules = {"tensorflow-cpu": "tensorflow", "opencv-python-headless": "cv2", "scikit-learn": "sklearn",
           "scikit-image": "skimage", "pillow": "PIL", "pytest-testinfra": "testinfra",
           "jupyterhub": "jupyterhub.singleuser"}
out = {}
for dist in requirement_names("/usr/local/share/deeplearning/requirements.in"):
    importlib.import_module(modules.get(dist, dist.replace("-", "_")))
    out[dist.lower()] = md.version(dist)
print("IMPORTS " + json.dumps(out))
PY
dl-versions --json | python -c 'import json, sys; d = json.load(sys.stdin); print("VERSIONS " + json.dumps({"machine": d["machine"], "libraries": d["libraries"]}))'
./word_algebra.sh "rome - italy + france" --topn 1
./spacy_nlp.sh 'Apple is looking at buying U.K. startup for $1 billion' | grep '^entities'
dataset=$(dl-assets path dataset)
for d in "$dataset"/*/; do  # 10 images of each class: feature extraction is slow under emulation
  mkdir -p "/tmp/small/$(basename "$d")" && find "$d" -type f | sort | head -n 10 | xargs cp -t "/tmp/small/$(basename "$d")"
done
./retrain.sh --image_dir /tmp/small --how_many_training_steps 50 | grep '^Final test accuracy'
./evaluate.sh --model_dir models/retrained --top_k 1 $(for d in "$dataset"/*/; do find "$d" -type f | sort | tail -n 1; done)
