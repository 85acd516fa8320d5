# Two commands for learners (`make lab`, `make test`); the rest are for contributors.
# Everything runs in one virtual environment at .venv, created on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
# Root containers (Docker, some hosted notebooks): JupyterLab refuses root without this.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300 \
         -p patterns.course.pristine_plugin

.PHONY: lab test lint unit notebooks browser bench mutation refresh stubs doctor clean

$(BIN)/python:
	@echo ">> creating the virtual environment in $(VENV) (with $(PYTHON))"
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"' \
		|| { echo "!! Python 3.11 or newer is needed: set PYTHON=python3.12 for example"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "!! venv failed: on Debian/Ubuntu run: sudo apt-get install python3-venv"; exit 1; }

$(STAMP): $(BIN)/python pyproject.toml
	@echo ">> installing the course and its dependencies into $(VENV) (first time: a few minutes)"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lab: $(STAMP) ## set everything up and open the course in JupyterLab
	@echo ">> checking the environment"
	@PATTERNS_LAB_PORT=$(PORT) $(BIN)/python -m patterns doctor --quick
	@echo ">> starting JupyterLab at notebooks/00_start_here.ipynb (Ctrl+C to stop)"
	@# The course root, not notebooks/, so the file browser shows exercises/ too.
	@$(BIN)/jupyter lab --port $(PORT) $(ROOT_FLAG) --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

test: lint unit notebooks browser ## the whole test suite, as CI runs it
	@echo ">> all tests passed"

lint: $(STAMP)
	@echo ">> ruff and mypy"
	@$(BIN)/ruff check patterns solutions tests benchmarks
	@$(BIN)/mypy

unit: $(STAMP)
	@echo ">> unit, integration, contract and grader tests (graders grade solutions/)"
	@$(BIN)/python -m pytest -m "not browser" --durations=10

notebooks: $(STAMP)
	@echo ">> executing every notebook under strict nbval"
	@$(BIN)/python -m pytest $(NBVAL) notebooks -p no:cacheprovider -q

browser: $(STAMP)
	@echo ">> JupyterLab in a real Chromium (skipped with a reason when no browser)"
	@$(BIN)/python -m pytest -m browser -rs -q

bench: $(STAMP) ## rerun the benchmarks (see BENCHMARKS.md)
	@for b in benchmarks/bench_*.py; do echo ">> $$b"; $(BIN)/python $$b || exit 1; done

mutation: $(STAMP) ## contributors: mutation-test every grader (slow; see BENCHMARKS.md)
	@$(BIN)/python benchmarks/mutation.py $(EX)

refresh: $(STAMP) ## contributors: re-execute notebooks and save outputs
	@$(BIN)/python -m patterns refresh $(NB)

stubs: $(STAMP) ## contributors: regenerate exercises/ from solutions/
	@$(BIN)/python -m patterns stubs --write

doctor: $(STAMP)
	@$(BIN)/python -m patterns doctor

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
