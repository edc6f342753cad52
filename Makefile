# rucka/deeplearning — build, test, run and ship the image.  `make help` lists the targets.
#
#   make test                         build the CPU image and run the test suite against it
#   make build CA_BUNDLE=/path/ca.pem behind an HTTPS-intercepting proxy (BuildKit secret)
#   make build PLATFORM=linux/arm64   the arm64 image (under qemu emulation on an x86-64 machine)

IMAGE     ?= rucka/deeplearning
VARIANT   ?= cpu
# The platform to build and test: empty is the engine's own; another one runs under emulation.
PLATFORM  ?=
NATIVE_ARCH := $(shell uname -m | sed -e s/x86_64/amd64/ -e s/aarch64/arm64/)
ARCH      := $(if $(PLATFORM),$(PLATFORM:linux/%=%),$(NATIVE_ARCH))
# The engine's own platform gets the names users type (:cpu, :cuda); another one :VARIANT-ARCH.
TAG       := $(IMAGE):$(VARIANT)$(if $(filter-out $(NATIVE_ARCH),$(ARCH)),-$(ARCH))
CA_BUNDLE ?=
ASSETS    ?= upstream
PYTHON    ?= python3
PYTEST_ARGS ?=
# A pytest marker expression: MARK=smoke runs the smoke subset (arm64 under emulation, the CUDA image).
MARK      ?=
DEMO_ARGS ?=
BENCH_ARGS ?= --cold
# Where `make publish` pushes (host[:port]/namespace), and the offline bundles' folder.
REGISTRY  ?=
DIST      ?= dist
VENV      := .venv
BIN       := $(VENV)/bin
SHELL     := /bin/bash

export IMAGE_TAG := $(TAG)

# The image's user and workspace, as docker/Dockerfile sets them (the tests check they agree).
IMAGE_UID := 1000
IMAGE_GID := 100
WORKDIR   := /home/jovyan/work

# Containers start as root only to take the host user's uid/gid, so files in ./data and
# ./models stay yours. A root host user (CI) gets the image's user, who is given ./models.
HOST_UID := $(shell id -u)
HOST_GID := $(shell id -g)
ifeq ($(HOST_UID),0)
  RUN_AS := --user root -e NB_UID=$(IMAGE_UID) -e NB_GID=$(IMAGE_GID) -e CHOWN_EXTRA=$(WORKDIR)/models
  export DL_UID := $(IMAGE_UID)
  export DL_GID := $(IMAGE_GID)
  export DL_CHOWN_EXTRA := $(WORKDIR)/models
else
  RUN_AS := --user root -e NB_UID=$(HOST_UID) -e NB_GID=$(HOST_GID)
  export DL_UID := $(HOST_UID)
  export DL_GID := $(HOST_GID)
endif
MOUNTS := -v "$(CURDIR)/data:$(WORKDIR)/data" -v "$(CURDIR)/models:$(WORKDIR)/models"
export DL_WORKDIR := $(WORKDIR)

.DEFAULT_GOAL := help
.PHONY: help engine build build-cuda build-arm64 unit test test-cuda test-arm64 test-release test-hub \
        build-hub bench-release bench-reproducible demo jupyter shell lock lint bench publish bundle clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

engine: ## Check the Docker engine (on a fresh Debian machine as root: install and start it, and qemu)
	@docker/harness/engine.sh linux/amd64 linux/arm64

build: ## Build the image (VARIANT=cpu, PLATFORM=); makes the base image locally when it cannot be pulled
	CA_BUNDLE="$(CA_BUNDLE)" ASSETS="$(ASSETS)" docker/harness/build.sh $(VARIANT) $(IMAGE) $(PLATFORM)

unit: $(VENV)/.ready ## The tests that need no Docker (tests/unit): seconds
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test: unit lint build ## Unit tests, lint, build, then the test suite against the running image (MARK=smoke: a subset)
	IMAGE=$(TAG) VARIANT=$(VARIANT) ARCH=$(ARCH) CA_BUNDLE="$(CA_BUNDLE)" \
	  $(BIN)/pytest tests --ignore=tests/unit $(if $(MARK),-m "$(MARK)") $(PYTEST_ARGS)

build-cuda: ## Build the CUDA image (rucka/deeplearning:cuda, linux/amd64 only)
	$(MAKE) build VARIANT=cuda

test-cuda: ## Build the CUDA image and test it; on a GPU VM the GPU checks run too (else they skip)
	$(MAKE) test VARIANT=cuda

build-arm64: ## Build the CPU image for linux/arm64 (rucka/deeplearning:cpu-arm64; emulated on x86-64)
	$(MAKE) build PLATFORM=linux/arm64

test-arm64: ## Build the arm64 image and run the smoke and workshop tests on it (under emulation on x86-64)
	$(MAKE) test PLATFORM=linux/arm64 MARK="smoke or workshop"

test-release: $(VENV)/.ready ## Publish to a registry on 127.0.0.1, pull, run; bundle, load, run offline
	IMAGE=$(IMAGE) $(BIN)/pytest tests/release $(PYTEST_ARGS)

build-hub: ## Build the classroom hub's image (rucka/deeplearning-hub; deploy/jupyterhub)
	CA_BUNDLE="$(CA_BUNDLE)" docker/harness/build-hub.sh $(IMAGE)-hub:latest

test-hub: $(VENV)/.ready build-hub ## A real JupyterHub spawning the image per user; VS Code's dev container
	IMAGE=$(IMAGE):cpu CA_BUNDLE="$(CA_BUNDLE)" $(BIN)/pytest tests/hub $(PYTEST_ARGS)

publish: ## Push :cpu/:latest (amd64+arm64 in one tag), :cuda, and immutable version tags to REGISTRY
	docker/harness/publish.sh "$(REGISTRY)" $(IMAGE)

bundle: ## Offline workshop bundle: one docker-load archive per platform, SHA256SUMS, in DIST
	docker/harness/bundle.sh "$(DIST)" $(IMAGE)

demo: build ## Build, then retrain on the embedded dataset and label samples (offline); model in ./models
	docker run --rm --network none $(RUN_AS) $(MOUNTS) $(TAG) ./demo.sh $(DEMO_ARGS)

jupyter: build ## JupyterLab and TensorBoard on 127.0.0.1 (ports 8888, 6006) over ./data and ./models
	IMAGE=$(TAG) docker compose up -d jupyter tensorboard
	@echo "JupyterLab: run 'docker compose logs jupyter' for the URL with its token; TensorBoard: http://127.0.0.1:6006"

shell: build ## A bash shell in the image, ./data and ./models mounted
	docker run --rm -it $(RUN_AS) $(MOUNTS) $(TAG) bash

lock: $(VENV)/.ready ## Re-resolve docker/requirements/*.in into pinned locks (uv with hashes; apt) and record when
	cd docker/requirements && for lock in cpu-amd64:x86_64 cpu-arm64:aarch64 cuda-amd64:x86_64; do \
	  ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes --python-version 3.11 \
	    --python-platform $${lock#*:}-manylinux_2_36 $${lock%%-*}.in -o $${lock%:*}.txt || exit 1; \
	  ../../$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 --format pylock.toml \
	    --python-platform $${lock#*:}-manylinux_2_36 $${lock%%-*}.in -c $${lock%:*}.txt \
	    -o pylock.$${lock%:*}.toml || exit 1; done
	cd docker/requirements && ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes \
	  --universal --python-version 3.11 hub.in -o hub.txt
	cd docker/requirements && ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes \
	  --universal --python-version 3.11 sbom.in -o sbom.txt
	cd docker/requirements && ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes \
	  --universal --python-version 3.11 export.in -c cpu-amd64.txt -o export.txt
	cd docker/requirements && ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes \
	  --universal --python-version 3.9 uv.in -o uv.txt
	cd docker/requirements && ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes \
	  --universal --python-version 3.11 dev.in -o dev.txt
	docker/harness/lock-apt.sh

lint: $(VENV)/.ready ## ruff (check and format) every Python file, hadolint, every install pinned by a lock, shellcheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint docker/Dockerfile deploy/jupyterhub/Dockerfile
	$(BIN)/python docker/harness/check-pins.py docker/Dockerfile deploy/jupyterhub/Dockerfile
	$(BIN)/shellcheck docker/harness/*.sh docker/build/* docker/rootfs/usr/local/bin/*.sh docker/rootfs/usr/local/bin/seed-home \
	  docker/rootfs/etc/profile.d/*.sh examples/scripts/*.sh .ci/run
	$(BIN)/actionlint .github/workflows/*.yml

bench: build $(VENV)/.ready ## Benchmarks (cold build drops the build cache; BENCH_ARGS= to skip it): tables, bench/results/*.json
	$(BIN)/python bench/bench_image.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_retrain.py
	$(BIN)/python bench/bench_retrain.py --upstream_shape efficientnet_b0
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_training_path.py
	$(BIN)/python bench/bench_vs_keras_io.py
	$(BIN)/python bench/bench_vs_keras_io.py --upstream_shape
	IMAGE=$(TAG) VARIANT=$(VARIANT) $(BIN)/python bench/bench_jupyter.py

bench-reproducible: $(VENV)/.ready ## Two builds from nothing of the same commit: files and layers compared (bench/)
	IMAGE=$(IMAGE) CA_BUNDLE="$(CA_BUNDLE)" ASSETS="$(ASSETS)" $(BIN)/python bench/bench_reproducible.py --variant $(VARIANT)

bench-release: $(VENV)/.ready ## Release figures: sizes, bundle, publish, pull into an empty engine, first run (bench/)
	IMAGE=$(IMAGE) $(BIN)/python bench/bench_release.py $(BENCH_ARGS:--cold=--cold-arm64)

clean: ## Remove the containers, images and build cache this project made, and the venv
	-docker compose down --volumes --remove-orphans
	-docker image ls -q $(IMAGE) | sort -u | xargs -r docker image rm -f
	-docker builder prune -af
	rm -rf $(VENV)

# Host tools (pytest, testinfra, uv, ruff, hadolint, shellcheck) pinned with hashes, in a venv: uv from
# its lock by hash (the host's pip installs that one wheel, without dependencies), then exactly the
# dev lock, resolving nothing; then the image's library (src/dlkit), editable, for tests/unit, and the
# tests' helpers (tests/support), editable, for the tests and bench/.
$(VENV)/.ready: docker/requirements/dev.txt docker/requirements/uv.txt pyproject.toml tests/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --require-hashes --only-binary :all: \
	  -r docker/requirements/uv.txt
	$(BIN)/uv pip sync -q --python $(BIN)/python --require-hashes --only-binary :all: docker/requirements/dev.txt
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps --no-build-isolation --no-index -e . -e tests
	touch $@
