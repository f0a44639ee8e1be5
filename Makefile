# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev bench lint layers format messages check

run: install
	@scripts/run.sh

test: install-dev
	@scripts/test.sh

# `make bench BENCH_ARGS="--only rush --db sqlite --rush-seconds 20"`: the morning rush alone.
bench: install-dev
	@$(BIN)/python -m bench $(BENCH_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	@scripts/install.sh
	@touch $@

# One pip run for the dev set: it includes everything `run` needs, so mark both.
$(VENV)/.installed-dev: pyproject.toml
	@scripts/install.sh dev
	@touch $(VENV)/.installed $@

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	ZTK_TESTING=1 $(BIN)/ztk makemigrations --check --dry-run
	ZTK_TESTING=1 $(BIN)/mypy

# Every import contract, the ones still broken included (docs/layers.md lists why).
layers: install-dev
	$(BIN)/lint-imports --no-cache

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install-dev
	scripts/messages.sh
