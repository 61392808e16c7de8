# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PIP := $(BIN)/pip -q --disable-pip-version-check
# torch first and pinned: any range lets pip fetch a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: run test install install-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[pii,explain,planners,service]'
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) install -e '.[pii,explain,planners,service,dev]'
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## make run: install, then serve the sidecar on embedded defaults (SQLite audit log, shipped
## packs, loopback), feed it the example traffic, and keep serving until Ctrl-C
run: install
	$(BIN)/guard serve --demo --audit sqlite:///guard-audit.db

## make test: install with test tools, then run the whole suite and the packs' own tests
test: install-dev
	$(BIN)/pytest
	$(BIN)/guard policy test policies/

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

## make bench: every side-by-side benchmark in benchmarks/, each printing its ratios
## (BENCH_ARGS=--quick for a smoke run of those that take it)
bench: install-dev
	$(BIN)/python benchmarks/bench_rules.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_pii.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_explain.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_audit.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_service.py

clean:
	rm -rf $(VENV) guard-audit.db*
