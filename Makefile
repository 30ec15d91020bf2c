# Tessera developer commands. Every target creates the environment first if it is missing,
# so on a fresh clone `make run` and `make test` are the only commands you need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tessera-setup
SHARED ?= ../shared
FUZZ_SECONDS ?= 60

.DEFAULT_GOAL := help
.PHONY: help setup run demo diff-demo test bench conformance fuzz lint docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

setup: $(STAMP) ## create .venv with the tessera CLI and the dev tools (idempotent)

$(STAMP): engine/pyproject.toml app/pyproject.toml requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e engine -e app
	@touch $(STAMP)

run: setup ## serve the app + a worker on 127.0.0.1:8000, SQLite; mirrors registry-template unless the GitHub App publishes
	@if [ -n "$$TESSERA_GITHUB_APP_ID" ] && [ -n "$$TESSERA_REGISTRY_REPO" ]; then \
	  exec $(BIN)/tessera-app serve; \
	else \
	  TESSERA_REGISTRY_PATH="$${TESSERA_REGISTRY_PATH:-registry-template}" exec $(BIN)/tessera-app serve; \
	fi

demo: setup ## the GitHub App end to end against the fake GitHub (exits 0 when it publishes)
	$(BIN)/python demo/scenario.py

diff-demo: setup ## diff the bundled example pair and show what Tessera reports
	@echo "+ tessera diff examples/orders/v1.yaml examples/orders/v2.yaml"
	@$(BIN)/tessera diff examples/orders/v1.yaml examples/orders/v2.yaml; \
	  rc=$$?; test $$rc -le 1 || exit $$rc; \
	  echo; echo "(exit $$rc: 0 compatible, 1 breaking, 2 error; try --output markdown|json|sarif|github)"

test: setup ## run the whole test suite
	$(BIN)/python -m pytest -n 2

bench: setup ## time Tessera on ../shared/corpus and write docs/benchmarks.md
	$(BIN)/python bench/run.py --shared $(SHARED) --write docs/benchmarks.md

conformance: setup ## score Tessera against the peer corpora in ../shared/conformance
	$(BIN)/python -m conformance --shared $(SHARED)

fuzz: setup ## fuzz every parser and the full diff, FUZZ_SECONDS per target (60); results in .fuzz/
	$(BIN)/python fuzz/run.py --seconds $(FUZZ_SECONDS) --shared $(SHARED)

lint: setup ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: setup ## regenerate the generated pages in docs/ and the template's schemas
	$(BIN)/python -m tessera_engine.docgen docs
	$(BIN)/python -m tessera_app.docgen docs
	cp engine/src/tessera_engine/registry/schemas/*.schema.json registry-template/schemas/

clean: ## remove the environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
