# Quick start: `make run` (the default scenario) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench fuzz determinism digests validate-research differential screenshots bench-ui clean

# The native engine core (Rust, crates/gpufleet-core) is built in release mode by maturin, the
# package's build backend, whenever pip installs the package: a change to it reinstalls.
CORE := crates/gpufleet-core
CORE_SOURCES := $(CORE)/Cargo.toml $(CORE)/Cargo.lock $(wildcard $(CORE)/src/*.rs $(CORE)/src/*/*.rs)
CARGO ?= cargo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(CORE_SOURCES) | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(CORE_SOURCES) | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/gpufleet run

test: $(VENV)/.dev-installed
	$(CARGO) test -q --manifest-path $(CORE)/Cargo.toml
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The native core against the Python engine on DIFFERENTIAL_EXAMPLES drawn fleets and workloads
# and DIFFERENTIAL_FAILURE_EXAMPLES more with drawn failures (hypothesis, derandomised) and the
# fixed cases; a few minutes. Result in docs/validation.md.
DIFFERENTIAL_EXAMPLES ?= 1200
DIFFERENTIAL_FAILURE_EXAMPLES ?= 600
differential: $(VENV)/.dev-installed
	GPUFLEET_DIFFERENTIAL_EXAMPLES=$(DIFFERENTIAL_EXAMPLES) \
	GPUFLEET_DIFFERENTIAL_FAILURE_EXAMPLES=$(DIFFERENTIAL_FAILURE_EXAMPLES) $(BIN)/python -m pytest tests/native -q \
		-p no:cacheprovider --hypothesis-show-statistics

# Fuzzing (docs/validation.md#fuzzing): FUZZ_RUNS coverage-guided cases per entry point
# (atheris, seed 1), then FUZZ_EXAMPLES mutation cases per entry point through the command
# (hypothesis, derandomised); logs and counts in runs/fuzz/. About an hour on 2 cores.
FUZZ_RUNS ?= 10000
FUZZ_EXAMPLES ?= 2000
FUZZ_ENTRIES = scenario faults trace:alibaba-openb trace:generic-jobs trace:azure-llm trace:generic-requests \
	trace:cluster-summary trace:alibaba-openb-nodes trace:stepfun-faults trace:slurm-sacct trace:swf \
	trace:gpufleet-jobs
fuzz: $(VENV)/.dev-installed
	$(BIN)/python -m pip install -q 'atheris>=2.3'
	rm -rf runs/fuzz && mkdir -p runs/fuzz/counts
	for entry in $(FUZZ_ENTRIES); do \
		log=runs/fuzz/atheris-$$(echo $$entry | tr : -).log; \
		$(BIN)/python -m tests.fuzz.atheris_fuzz $$entry -runs=$(FUZZ_RUNS) -seed=1 > $$log 2>&1 \
			|| { tail -60 $$log; echo "atheris $$entry: CRASH (see $$log)"; exit 1; }; \
		echo "atheris $$entry: $$(grep -E '^Done' $$log)"; \
	done
	GPUFLEET_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) GPUFLEET_FUZZ_REPORT=runs/fuzz/counts $(BIN)/python -m pytest -n 2 \
		tests/fuzz/test_fuzz.py -q -p no:cacheprovider
	$(BIN)/python -c "import json, pathlib; [print(p.stem, json.loads(p.read_text())) \
		for p in sorted(pathlib.Path('runs/fuzz/counts').glob('*.json'))]"

# The sha256 of every output of a fixed set of runs (about 4 minutes): run on two checkouts
# and diff, to show a change leaves the outputs byte for byte the same.
digests: $(VENV)/.installed
	$(BIN)/python benchmarks/digests.py

# The default scenario, whole, with numpy's AVX-512 and AVX2 code on and off: the same bytes.
determinism: $(VENV)/.installed
	$(BIN)/python benchmarks/determinism.py

# Style (ruff), the package layers (import-linter: pyproject.toml [tool.importlinter],
# ARCHITECTURE.md: no upward import and no cycle, function-level imports included) and
# types (mypy --strict on spec, fleet, sched and sim: pyproject.toml [tool.mypy]).
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check gpufleet tests benchmarks validation
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(CARGO) fmt --manifest-path $(CORE)/Cargo.toml --check
	$(CARGO) clippy -q --manifest-path $(CORE)/Cargo.toml --all-targets -- -D warnings

# The pictures in docs/ui.md, taken by the dashboard's browser tests (Chromium, headless).
screenshots: $(VENV)/.dev-installed
	GPUFLEET_UI_SCREENSHOTS=docs/img $(BIN)/python -m pytest tests/ui/test_browser.py -q -p no:cacheprovider

# The dashboard under load: 100 clients for 30 s over a store of 1,000 runs (figures in docs/performance.md).
bench-ui: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/ui_load.py

# Every benchmark in turn (about 30 minutes); figures in docs/performance.md.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/scheduler_pass.py
	$(BIN)/python benchmarks/traces.py
	$(BIN)/python benchmarks/serving.py
	$(BIN)/python benchmarks/serving_fleet.py
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/failures.py
	$(BIN)/python benchmarks/sweeps.py

# The research-simulator reproductions in full (about 15 minutes); figures in docs/validation.md.
validate-research: $(VENV)/.installed
	$(BIN)/python validation/research_simulators.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis .ruff_cache .mypy_cache gpufleet.egg-info $(CORE)/target gpufleet/_core*.so
