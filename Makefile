# The two commands: `make demo` and `make test`. Both run `setup` first (idempotent).
PY      := .venv/bin/python
SHELL   := /bin/bash

.PHONY: setup demo test test-fast bench lint clean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m fast

bench: setup
	$(PY) -m benchmarks.run

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) scripts/check_modules.py
	$(PY) scripts/check_imports.py

clean:
	rm -rf .venv .venv-lava demo-out bench-out .pytest_cache .ruff_cache
