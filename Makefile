# gridmap — `make run` (the app with the Zhongshan demo) and `make test` (the suite on PostGIS).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test db-up db-down lint bench clean

run: $(STAMP)
	$(BIN)/gridmap run

test: $(STAMP)
	$(BIN)/ruff check api geo static_map tests
	$(BIN)/mypy
	$(BIN)/gridmap db up
	$(BIN)/gridmap system test-deps
	$(BIN)/pytest

db-up: $(STAMP)
	$(BIN)/gridmap db up

db-down:
	@if [ -x $(BIN)/gridmap ]; then $(BIN)/gridmap db down; fi

# The benchmark suite (not part of `make test`): 1×, 100× and 1000× the reference year; on a
# small machine `make bench BENCH_ARGS=--skip-1000x`. Results: bench/results/<date>.md|json.
bench: $(STAMP)
	$(BIN)/gridmap db up
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check api geo static_map tests bench
	$(BIN)/mypy

$(VENV)/bin/python:
	@# Debian's python3 lacks venv/ensurepip until python3-venv is installed.
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  for i in $$(seq 1 60); do apt-get update && break; sleep 5; done; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    -o DPkg::Lock::Timeout=600 python3-venv; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

clean: db-down
	rm -rf $(VENV) .pgdata .local
