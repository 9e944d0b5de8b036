# The two commands a newcomer needs: `make run` (gateway on :3000, SQLite) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 3000
ARGS ?=

.PHONY: run test install install-test migrate lint bench

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(PY) manage.py bootstrap
	$(PY) manage.py collectstatic --noinput -v0
	$(VENV)/bin/one-api --port $(PORT)

test: install-test
	$(VENV)/bin/pytest $(ARGS)

lint: install-test
	$(VENV)/bin/ruff check .

bench: install-test
	$(PY) deploy/bench/run.py $(ARGS)
