# Helpline's two commands: `make demo` runs it with demo data, `make test` checks everything.
# Both create the virtualenv and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
JOBS ?= auto

.PHONY: demo test install lint typecheck pytest format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What running Helpline needs.
$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# What checking it needs: test tools and the optional sentence-embedding backend
# (torch is pinned to the CPU build in pyproject.toml).
$(BIN)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,embeddings]'
	touch $@ $(BIN)/.installed

install: $(BIN)/.installed-dev

demo: $(BIN)/.installed
	$(BIN)/helpline demo

test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -n $(JOBS) --dist loadgroup

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: install
	$(BIN)/python -m bench.api

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache helpline-data .helpline-demo
