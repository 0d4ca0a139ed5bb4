# The README's commands.  `make run` runs the product, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install run test test-fast bench lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: install
	$(BIN)/contiflow people --load runbooks/people.yaml
	$(BIN)/contiflow import --each bpmn runbooks
	$(BIN)/contiflow worker

test: install
	$(BIN)/pytest

bench: install
	$(PY) -m bench

lint: install
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/ruff check engine web tests bench
	$(BIN)/mypy engine
