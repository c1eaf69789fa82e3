# Two commands on a fresh machine with Python 3.11+:
#   make run    install into .venv, migrate, load demo data, serve on http://127.0.0.1:8000
#   make test   install into .venv (with test tools) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
HOST   ?= 127.0.0.1:8000

.PHONY: run test install install-dev lint typecheck check-imports bench clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.base-installed: $(VENV)/bin/python requirements/base.txt
	$(PY) -m pip install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.dev-installed: $(VENV)/bin/python requirements/base.txt requirements/dev.txt
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@touch $@ $(VENV)/.base-installed

install: $(VENV)/.base-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --address $(HOST)
	$(PY) manage.py runserver $(HOST)

test: install-dev
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install-dev
	$(VENV)/bin/mypy

bench: install-dev
	$(PY) manage.py benchmark scoring

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
