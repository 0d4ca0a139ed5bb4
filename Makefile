# The README's commands.  `make run` runs the product, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install run test test-fast bench lint soak

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Front-end packages (bpmn-js) from the npm registry, served by the web app (never a CDN).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: install
	$(BIN)/contiflow serve --demo

# the whole suite with a coverage report of engine/ and web/ (settings in pyproject.toml)
test: install
	$(BIN)/pytest --cov --cov-report=term:skip-covered

# the crash-safety soak test alone (PostgreSQL; also part of `make test` when it is configured)
soak: install
	CONTIFLOW_TEST_DATABASE_URL=$${CONTIFLOW_TEST_DATABASE_URL:-postgresql://root@127.0.0.1:5432/test} \
	  $(BIN)/pytest -m soak -s tests/test_soak.py

bench: install
	$(PY) -m bench

lint: install
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/ruff check engine web tests bench
	$(BIN)/mypy engine web
