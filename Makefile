# Two commands: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
# Tests run in parallel on both cores; set PYTEST_WORKERS=0 to run them in one process.
PYTEST_WORKERS ?= auto

.PHONY: install demo test lint typecheck unit bench-import clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/keepwell demo

lint: $(STAMP)
	$(BIN)/ruff check keepwell tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test: lint typecheck unit

bench-import: $(STAMP)
	$(BIN)/python bench/import_orders.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
