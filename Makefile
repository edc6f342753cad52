# rucka/deeplearning — build, test and run the image.  `make help` lists the targets.
#
#   make test                         build the CPU image and run the test suite against it
#   make build CA_BUNDLE=/path/ca.pem behind an HTTPS-intercepting proxy (BuildKit secret)

IMAGE     ?= rucka/deeplearning
VARIANT   ?= cpu
TAG       := $(IMAGE):$(VARIANT)
CA_BUNDLE ?=
ASSETS    ?= upstream
PYTHON    ?= python3
PYTEST_ARGS ?=
DEMO_ARGS ?=
BENCH_ARGS ?= --cold
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
.PHONY: help engine build build-cuda test test-cuda demo jupyter shell lock lint bench clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

engine: ## Check the Docker engine (on a fresh Debian machine as root: install and start it)
	@docker/harness/engine.sh

build: ## Build the image (VARIANT=cpu); makes the base image locally when it cannot be pulled
	CA_BUNDLE="$(CA_BUNDLE)" ASSETS="$(ASSETS)" docker/harness/build.sh $(VARIANT) $(IMAGE)

test: lint build ## Lint, build, then run the test suite against the running image
	IMAGE=$(TAG) VARIANT=$(VARIANT) CA_BUNDLE="$(CA_BUNDLE)" $(BIN)/pytest tests $(PYTEST_ARGS)

build-cuda: ## Build the CUDA image (rucka/deeplearning:cuda)
	$(MAKE) build VARIANT=cuda

test-cuda: ## Build the CUDA image and test it; on a GPU VM the GPU checks run too (else they skip)
	$(MAKE) test VARIANT=cuda

demo: build ## Build, then retrain on the embedded dataset and label samples (offline); model in ./models
	docker run --rm --network none $(RUN_AS) $(MOUNTS) $(TAG) ./demo.sh $(DEMO_ARGS)

jupyter: build ## JupyterLab and TensorBoard on 127.0.0.1 (ports 8888, 6006) over ./data and ./models
	IMAGE=$(TAG) docker compose up -d jupyter tensorboard
	@echo "JupyterLab: run 'docker compose logs jupyter' for the URL with its token; TensorBoard: http://127.0.0.1:6006"

shell: build ## A bash shell in the image, ./data and ./models mounted
	docker run --rm -it $(RUN_AS) $(MOUNTS) $(TAG) bash

lock: $(VENV)/.ready ## Re-resolve docker/requirements/*.in into pinned locks (uv with hashes; apt)
	cd docker/requirements && for v in cpu cuda; do ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_36 $$v.in -o $$v.txt || exit 1; done
	cd docker/requirements && ../../$(BIN)/uv pip compile -q --upgrade --generate-hashes \
	  --universal --python-version 3.9 dev.in -o dev.txt
	docker/harness/lock-apt.sh

lint: $(VENV)/.ready ## hadolint the Dockerfiles, check every install is pinned by a lock, shellcheck the scripts
	$(BIN)/hadolint docker/Dockerfile
	$(BIN)/python docker/harness/check-pins.py docker/Dockerfile
	$(BIN)/shellcheck docker/harness/*.sh docker/rootfs/usr/local/bin/*.sh docker/rootfs/usr/local/bin/fix-permissions \
	  examples/scripts/*.sh .ci/run

bench: build $(VENV)/.ready ## Benchmarks (cold build drops the build cache; BENCH_ARGS= to skip it): tables, bench/results/*.json
	$(BIN)/python bench/bench_image.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_retrain.py
	$(BIN)/python bench/bench_retrain.py --upstream_shape efficientnet_b0
	$(BIN)/python bench/bench_memory.py
	IMAGE=$(TAG) VARIANT=$(VARIANT) $(BIN)/python bench/bench_jupyter.py

clean: ## Remove the containers, images and build cache this project made, and the venv
	-docker compose down --volumes --remove-orphans
	-docker image ls -q $(IMAGE) | sort -u | xargs -r docker image rm -f
	-docker builder prune -af
	rm -rf $(VENV)

# Host tools (pytest, testinfra, uv, hadolint, shellcheck) pinned with hashes, in a venv.
$(VENV)/.ready: docker/requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r docker/requirements/dev.txt
	touch $@
