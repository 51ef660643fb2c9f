# Two entry points for a newcomer: `make run` (set up, then the main job) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= configs/tx2_vgg16.yaml

.PHONY: setup run test test-all bench

$(BIN)/sim: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first: a plain range would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/sim

setup: $(BIN)/sim

run: setup
	$(BIN)/sim run $(CONFIG)

# CI (CI=true) has the time for the slow statistical tests too (about 2 more minutes), and
# installs Debian's chromium (once) for the test that renders report.html headless.
test: setup
	$(if $(filter true,$(CI)),command -v chromium >/dev/null || { \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; })
	$(BIN)/python -m pytest -q $(if $(filter true,$(CI)),-m '',)

test-all: setup
	$(BIN)/python -m pytest -q -m ''

bench: setup
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done
