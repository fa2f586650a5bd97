# gridweave: the commands a newcomer needs. Everything runs inside .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint fmt bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)            ## synthesise a city, ingest it, print what happened
	$(BIN)/gridweave demo

test: $(STAMP) lint       ## lint, then every test (PostgreSQL too when GRIDWEAVE_TEST_POSTGRES_URL is set)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)           ## the performance figures (slow)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/chunks.py
	$(BIN)/python bench/linkage.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
