"""dlkit: the machinery behind the image's examples, so that each example can show its idea.

Where things live (one module per concern; no module imports an example):
- `errors`      a mistake in the input is one line and a non-zero exit status, never a traceback
- `images`      images read by content, decoded in threads a few batches ahead of the network
- `assets`      the ImageNet networks and other assets baked into the image; importing Keras fast
- `dataset`     a folder of class sub-folders: scanning it, labels, the hash-based split
- `bottlenecks` the backbone's features of every image, computed once and cached by content
- `engine`      what runs the frozen backbone: ONNX Runtime (converted at build time) or TensorFlow
- `session`     the fast path of ./retrain.sh: a helper process, a background build, one thread
- `training`    Keras's fit for the new layer, with the classic report every N steps (ClassicHead)
- `reports`     what a run leaves behind: the classic lines, plots, metrics, an atomic save
- `machine`     what the container was given (memory, CPUs, disk) against what a program needs
- `textures`    a small generated dataset of textures (the stand-in dataset, and the tests')
- `store`       the assets: the manifest, fetching and hash checks, converters, the index (dl-assets)
- `lock`        the requirement files and their locks (dl-versions, build.sh's labels, the tests)
- `versions`    dl-versions: what is in the image;  `doctor`  dl-doctor: can it compute, and on what
- `keras_note`  a note on Keras's failed downloads naming the image's baked-in weights
"""

import os
from pathlib import Path

# The image's working directory: data/, models/, examples/ (programs and notebooks) (ENV DL_WORKDIR in the
# Dockerfile is the one place it is set).
WORKDIR = Path(os.environ.get("DL_WORKDIR") or Path.home() / "work")
