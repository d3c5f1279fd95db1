# `make run` and `make test` set themselves up from a fresh clone: a .venv made with the
# machine's python3, re-installed only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/briefing-bot run

check: $(STAMP)
	$(BIN)/briefing-bot check

lint: $(STAMP)
	$(BIN)/ruff check briefings bot storage fakes tests bench
	$(BIN)/ruff format --check briefings bot storage fakes tests bench
	$(BIN)/mypy --strict briefings bot storage fakes

test: lint
	$(BIN)/briefing-bot check
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
