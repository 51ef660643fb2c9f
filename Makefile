# Two entry points for a newcomer: `make run` (set up, then the main job) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= configs/tx2_vgg16.yaml

.PHONY: setup run test test-all bench figures

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

# The README's figures, from a real run of the main job and a small sweep.
FIGURES := docs/figures
figures: setup
	$(BIN)/sim run configs/tx2_vgg16.yaml --out results/figures/tx2_vgg16
	$(BIN)/sim sweep configs/tx2_lenet.yaml --grid link.uplink_mbps=1,5,20,100 \
	    --grid edge.power_mode=maxn,maxq --cost-only --out results/figures/sweep_lenet --restart
	mkdir -p $(FIGURES)
	cp results/figures/tx2_vgg16/plots/energy_per_cut.png \
	   results/figures/tx2_vgg16/plots/latency_per_cut.png \
	   results/figures/tx2_vgg16/plots/privacy_cost.png $(FIGURES)/
	cp results/figures/sweep_lenet/plots/heatmap_total_mj.png $(FIGURES)/sweep_heatmap_total_mj.png
