# Quick start: `make run` (the default scenario) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench validate-research clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/gpufleet run

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check gpufleet tests benchmarks validation

# Every benchmark in turn (about 30 minutes); figures in docs/performance.md.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/scheduler_pass.py
	$(BIN)/python benchmarks/traces.py
	$(BIN)/python benchmarks/serving.py
	$(BIN)/python benchmarks/serving_fleet.py
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/failures.py

# The research-simulator reproductions in full (about 15 minutes); figures in docs/validation.md.
validate-research: $(VENV)/.installed
	$(BIN)/python validation/research_simulators.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis .ruff_cache gpufleet.egg-info
