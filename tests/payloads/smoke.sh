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
python - <<'PY'  # the backbone's engine, and its features against TensorFlow's on every image of the dataset
import json
import numpy as np
from dlkit import assets, dataset, engine
from dlkit.images import load_image
backbone = assets.default_backbone()
out = {"runs_on": engine.choose(backbone), "images": 0, "min_cosine": None}
if out["runs_on"] == "onnx":
    size = assets.backbone_spec(backbone)["input_size"]
    files = [f for fs in dataset.scan(assets.dataset_root()).values() for f in fs]
    by_tf, by_onnx = engine.predictor(backbone, "tensorflow"), engine.predictor(backbone, "onnx")
    cosines = []
    for i in range(0, len(files), 32):
        x = np.stack([load_image(f, size) for f in files[i : i + 32]])
        a, b = np.asarray(by_tf(x)), np.asarray(by_onnx(x))
        cosines += list((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))
    out.update(images=len(cosines), min_cosine=float(min(cosines)))
print("ENGINE " + json.dumps(out))
PY
find "$(dl-assets path dataset)" -type f | wc -l | sed 's/^/DATASET_FILES /'
printf '%s' "$RED_CORNER_HEIC" | base64 -d > /tmp/red_corner.heic
printf '%s' "$RED_CORNER_ROTATED_HEIC" | base64 -d > /tmp/red_corner_rotated.heic
python - <<'PY'  # phone photos through this platform's codecs: HEIC (pi-heif), AVIF (Pillow)
import json
import numpy as np
from PIL import Image
from dlkit.images import read_image
picture = Image.new("RGB", (64, 32), "white")
picture.paste((255, 0, 0), (0, 0, 16, 16))  # a red corner, top left
exif = Image.Exif()
exif[0x0112] = 3  # stored upside down, tagged so
picture.rotate(180).save("/tmp/red_corner.avif", quality=95, exif=exif)
out = {}
for name in ("red_corner.heic", "red_corner.avif", "red_corner_rotated.heic"):
    a = np.asarray(read_image(f"/tmp/{name}"), int)
    a = a[:, ::-1] if "rotated" in name else a  # held sideways: the red corner is top right, upright
    out[name] = {"shape": list(a.shape), "red": int(np.abs(a[:14, :14] - (255, 0, 0)).max()),
                 "white": int(np.abs(a[18:, 18:] - 255).max())}
print("PHOTOS " + json.dumps(out))
PY
./word_algebra.sh "rome - italy + france" --topn 1
./spacy_nlp.sh 'Apple is looking at buying U.K. startup for $1 billion' | grep '^entities'
dataset=$(dl-assets path dataset)
for d in "$dataset"/*/; do  # 10 images of each class: feature extraction is slow under emulation
  mkdir -p "/tmp/small/$(basename "$d")" && find "$d" -type f | sort | head -n 10 | xargs cp -t "/tmp/small/$(basename "$d")"
done
mkdir -p /tmp/zipped/__MACOSX/small && touch /tmp/zipped/__MACOSX/small/._dots && mv /tmp/small /tmp/zipped/
(cd /tmp/zipped && python -m zipfile -c /tmp/small.zip small __MACOSX)  # as a Mac zips a folder
md5sum /tmp/small.zip > /tmp/small.zip.md5
./retrain.sh --image_dir /tmp/small.zip --how_many_training_steps 50 | grep '^Final test accuracy\|^retrain: .* run by'
last=$(for d in "$dataset"/*/; do find "$d" -type f | sort | tail -n 1; done)
# shellcheck disable=SC2086  # one file name per word
./evaluate.sh --model_dir models/retrained --top_k 1 $last
python -c 'from pathlib import Path; from dlkit import engine
print("EVALUATE_ENGINE", "tensorflow" if engine.labeller(Path("models/retrained"), 4) is None else "onnx")'
for e in auto tensorflow; do  # the probabilities by the default engine and by Keras alone
  # shellcheck disable=SC2086
  echo "EVALUATE_$e $(./evaluate.sh --model_dir models/retrained --engine $e --json $last | tr -d '\n')"
done
printf '%s' "$RINGS_HEIC" | base64 -d > /tmp/rings.heic  # an iPhone's HEIC and the same picture as JPEG
printf '%s' "$RINGS_JPG" | base64 -d > /tmp/rings.jpg
python -c 'from PIL import Image; e = Image.Exif(); e[0x0112] = 3  # as AVIF: stored upside down, tagged so
Image.open("/tmp/rings.jpg").rotate(180).save("/tmp/rings.avif", quality=95, exif=e)'
mkdir /tmp/phone && cp /tmp/rings.jpg /tmp/rings.heic /tmp/rings.avif /tmp/phone/ && tar -czf /tmp/phone.tar.gz -C /tmp phone
echo "PHONE_ARCHIVE $(./evaluate.sh --model_dir models/retrained --top_k 1 --json /tmp/phone.tar.gz | tr -d '\n')"
entry=$(find models/.bottlenecks -name '*.npy' | sort | head -n 1)  # a cache entry replaced by a folder
rm "$entry" && mkdir -p "$entry/inside"
./retrain.sh --image_dir /tmp/small.zip --how_many_training_steps 10 --name again | grep '^bottlenecks:'
echo "CACHE_REPAIRED $(test -f "$entry" && echo file || echo not-a-file) tmp=$(find models/.bottlenecks -name '*.tmp' | wc -l)"
md5sum -c --quiet /tmp/small.zip.md5 && echo "ZIP_UNCHANGED"
