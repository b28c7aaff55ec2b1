# Quick start: `make serve` (install, validate, build, serve on http://127.0.0.1:8001), `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGE := datapackage
DB := build/opendata.db
HOST ?= 127.0.0.1
PORT ?= 8001

.PHONY: install validate build serve lint test bench clean

$(BIN)/opendata: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/opendata

install: $(BIN)/opendata

# Findings about the figures (exit 1) are published, not fatal; unusable input (exit 2) stops.
validate: install
	$(BIN)/opendata validate "$(PACKAGE)" || [ $$? -eq 1 ]

# (A package folder's name may hold spaces; not a colon, nor the database's any space: make cannot name such files.)
$(DB): install $(shell find "$(PACKAGE)" -type f 2>/dev/null | sed 's/ /\\ /g') $(shell find src -name '*.py' 2>/dev/null)
	$(BIN)/opendata build "$(PACKAGE)" -o "$(DB)"

build: $(DB)

serve: validate build
	$(BIN)/opendata serve "$(DB)" --host $(HOST) --port $(PORT) --package "$(PACKAGE)"

lint: install
	$(BIN)/ruff check src tests benchmarks

test: install lint
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/build.py
	$(BIN)/python benchmarks/import_report.py

clean:
	rm -rf build dist .pytest_cache
