# Reqflo: `make run` starts the whole app on the embedded default; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export REQFLO_BIND ?= 127.0.0.1:$(PORT)

.PHONY: run test test-serial install lint typecheck format services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@# The import tests run journeys against a real httpbin; its greenlet<3 pin is wrong for us.
	$(BIN)/pip install --quiet --no-deps httpbin==0.10.4
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@# With DATABASE_URL set, pages are served from the hashed manifest (WhiteNoise): build it.
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@echo
	@echo "  Reqflo is starting at http://$(REQFLO_BIND)/  (web server, Celery worker and beat; Ctrl-C stops all)"
	@echo
	@# Ctrl-C (exit 130) is how this ends: not an error.
	$(BIN)/python manage.py start_all || [ $$? -eq 130 ]

services:
	bash .ci/services

# In parallel (pytest-xdist, one worker per core): browser tests and tests that start processes
# each keep to one worker (tests/conftest.py); `make test-serial` runs everything in one process.
test: install services
	$(BIN)/pytest -n auto --dist loadgroup --durations=40

test-serial: install services
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/broker var/celerybeat-schedule*
