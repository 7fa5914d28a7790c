# Helpline's two commands: `make demo` runs it with demo data, `make test` checks everything.
# Both create the virtualenv and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
JOBS ?= auto

.PHONY: demo test install lint typecheck pytest format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
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
