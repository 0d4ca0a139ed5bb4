# The README's commands.  `make run` runs the product, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install run test test-fast bench lint

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Front-end packages (bpmn-js) from the npm registry, served by the web app (never a CDN).
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund
	touch $@

run: install
	$(BIN)/contiflow serve --demo

test: install
	$(BIN)/pytest

bench: install
	$(PY) -m bench

lint: install
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/ruff check engine web tests bench
	$(BIN)/mypy engine
