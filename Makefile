# Every target builds its own virtualenv; a fresh machine needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench fuzz lint typecheck check clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make run: the service on its embedded defaults (SQLite, console notifier, example config) with a demo deploy
run: $(STAMP)
	SHEPHERD_CONFIG=$${SHEPHERD_CONFIG:-examples/shepherd.yaml} $(BIN)/shepherd demo --serve

## make test: the whole suite (PostgreSQL tests run when SHEPHERD_TEST_POSTGRES_URL is set)
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

## make bench: benchmarks; figures go to bench/RESULTS.md
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## make fuzz: schemathesis over the OpenAPI document with a large budget (FUZZ_EXAMPLES per operation)
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} $(BIN)/pytest -q -s tests/integration/test_fuzz_api.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .shepherd bench/.work
