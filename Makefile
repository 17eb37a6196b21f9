# Entry points. Every target installs what it needs through `setup`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STACK  ?= dev
FORMAT ?= text
OUTPUT ?=

.PHONY: setup preview test lint bench docs clean

setup: $(STAMP)

# Re-installs only when a requirements file or pyproject changes.
$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Offline preview: the stack under simulated AWS, judged by the policy pack.
preview: setup
	$(PY) -m offline_preview --stack $(STACK) --format $(FORMAT) $(if $(OUTPUT),--output $(OUTPUT))

test: setup
	$(PY) -m pytest -n 2

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(PY) -m offline_preview.bench

## Regenerates the reference docs (checked by tests for staleness).
docs: setup
	$(PY) -m offline_preview.policy_config
	$(PY) -m offline_preview.docs

clean:
	rm -rf $(VENV) .pytest_cache
