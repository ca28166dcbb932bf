# Two commands: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
# Tests run in parallel on both cores; set PYTEST_WORKERS=0 to run them in one process.
PYTEST_WORKERS ?= auto

.PHONY: install demo test lint typecheck unit screenshots bench-import bench-agenda bench-api bench-models bench-score bench-load bench-playbooks bench-startup bench-sign-in mutate clean

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

# The README's and docs/web.md's pictures, taken by the browser tests (needs /usr/bin/chromium).
screenshots: $(STAMP)
	KEEPWELL_SCREENSHOTS=1 KEEPWELL_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) tests/web

# Benchmarks (not part of `make test`): each writes its section of docs/benchmarks.md.
PG_SERVER ?= postgresql://postgres@127.0.0.1:5432/test

bench-import: $(STAMP)
	$(BIN)/python bench/import_orders.py

bench-agenda: $(STAMP)
	$(BIN)/python bench/agenda.py --postgres $(PG_SERVER)

bench-api: $(STAMP)
	$(BIN)/python bench/api.py

bench-models: $(STAMP)
	$(BIN)/python bench/models.py

bench-score: $(STAMP)
	$(BIN)/python bench/score.py --postgres $(PG_SERVER)

bench-load: $(STAMP)
	$(BIN)/python bench/load.py --postgres $(PG_SERVER)

bench-playbooks: $(STAMP)
	$(BIN)/python bench/playbooks.py --postgres $(PG_SERVER)

# The code before the lazy command table, for comparison (any older revision will do).
STARTUP_BEFORE ?= 0c734b5

bench-startup: $(STAMP)
	$(BIN)/python bench/startup.py --before $(STARTUP_BEFORE)

bench-sign-in: $(STAMP)
	$(BIN)/python bench/sign_in.py

# Mutation testing of the rule modules (not part of `make test`): writes its section of
# docs/testing.md. MUTATE_ONLY="rfm budget" runs some modules (names: bench/mutate.toml);
# MUTATE_JOBS=1 runs one module at a time (default: two, one per core).
MUTATE_STAMP := $(VENV)/.mutate-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])")
MUTATE_JOBS ?= 2
MUTATE_ONLY ?=

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutate]'
	rm -f $(VENV)/.mutate-*
	touch $@

mutate: $(MUTATE_STAMP)
	$(BIN)/python bench/mutate.py --jobs $(MUTATE_JOBS) $(if $(MUTATE_ONLY),--only $(MUTATE_ONLY))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
