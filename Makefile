# Two commands set everything up on a fresh machine:
#   make demo   JupyterLab on a seeded demo store   (DEMO_ARGS=--no-browser for headless)
#   make test   lint, type checks and every test suite (what CI runs)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.raise-demo
DEMO_NOTEBOOK_DIR ?= $(CURDIR)
DEMO_ARGS ?=
PYTEST_ARGS ?=
# Two workers, each file's tests on one of them (a file's shared resources stay with it): the
# suite took 26 min this way against 47 min in one process on the same 2-core machine.
PYTEST_WORKERS ?= -n 2 --dist loadfile
CHROMIUM := /usr/bin/chromium

.PHONY: demo test lint typecheck pytest frontend jest bench-catalog clean airflow

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the project's requirements change.
$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,postgres,server]'
	touch $@

$(VENV)/.stamp-jupyter: pyproject.toml $(VENV)/.stamp-dev
	$(BIN)/pip install --quiet -e '.[dev,postgres,server,jupyter]'
	touch $@

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check raise_ raise_jupyter tests bench
	$(BIN)/ruff format --check raise_ raise_jupyter tests bench

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

# Airflow 3 lives in a venv of its own (its pins are not ours): the orchestration tests run
# `airflow dags test`, DagBag and `airflow api-server` from it (tests/orchestration).
AIRFLOW_VENV := .airflow-venv
AIRFLOW_VERSION := 3.3.2
$(AIRFLOW_VENV)/.stamp: Makefile
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install --quiet 'apache-airflow==$(AIRFLOW_VERSION)'
	touch $@

airflow: $(AIRFLOW_VENV)/.stamp

# pytest exits 5 when a selection collects nothing; that is not a failure of the code.
pytest: $(VENV)/.stamp-dev $(AIRFLOW_VENV)/.stamp | $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS) || test $$? -eq 5

# The browser tests (tests/browser) drive Debian's Chromium with Playwright: never a browser that
# `playwright install` downloads. Installed when missing (as root); if that fails the make goes
# on, and the browser tests fail saying what is missing.
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
	  || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium) \
	  || echo "make: could not install chromium (apt-get, as root); tests/browser will fail without $@" >&2

test: lint typecheck frontend pytest jest

# -- the JupyterLab sidebar: labextension/ (TypeScript) built into raise_jupyter/labextension/ ---
# jlpm ships with JupyterLab. An editable install already builds the sidebar (hatch-jupyter-builder);
# these rules rebuild it when its sources change, and keep the venv's installed copy current.
JLPM := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jlpm
FRONTEND_SOURCES := $(shell find labextension/src labextension/style -type f) labextension/install.json \
	package.json tsconfig.json
LABEXTENSION := raise_jupyter/labextension
INSTALLED_LABEXTENSION := $(VENV)/share/jupyter/labextensions/raise-featurestore

$(BIN)/jlpm: | $(VENV)/.stamp-dev
	$(BIN)/pip install --quiet 'jupyterlab>=4.6,<5'

node_modules/.yarn-state.yml: package.json yarn.lock .yarnrc.yml | $(BIN)/jlpm
	$(JLPM) install
	touch $@

$(LABEXTENSION)/package.json: $(FRONTEND_SOURCES) | node_modules/.yarn-state.yml
	$(JLPM) build
	rm -rf $(INSTALLED_LABEXTENSION)
	mkdir -p $(dir $(INSTALLED_LABEXTENSION))
	cp -r $(LABEXTENSION) $(INSTALLED_LABEXTENSION)
	touch $@

frontend: $(LABEXTENSION)/package.json

jest: node_modules/.yarn-state.yml
	$(JLPM) test

# `raise demo` seeds the store, prints the URL to open (with its token) and becomes JupyterLab,
# opened on notebooks/00_quickstart.ipynb with the Raise sidebar showing (tests/browser checks it).
demo: $(VENV)/.stamp-jupyter frontend
	$(BIN)/raise demo --home $(DEMO_HOME) --notebook-dir $(DEMO_NOTEBOOK_DIR) $(DEMO_ARGS)

bench-catalog: $(VENV)/.stamp-dev
	$(BIN)/python bench/catalog.py

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
	rm -rf node_modules .yarn labextension/lib $(LABEXTENSION)
