# Entry points. Every target installs what it needs through `setup`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The policy pack's own venv (PulumiPolicy.yaml: runtime.options.virtualenv: venv). For a local
# `--policy-pack policies` the CLI runs `policies/venv/bin/python -u -m pulumi.policy` with policies/
# as working directory and never creates that venv (pulumi/pulumi:
# pkg/resource/plugin/analyzer_plugin.go, sdk/python/cmd/pulumi-language-python/main.go RunPlugin).
PACK_VENV  := policies/venv
PACK_STAMP := $(PACK_VENV)/.installed
PIP_FLAGS  := --quiet --disable-pip-version-check
STACK  ?= dev
FORMAT ?= text
OUTPUT ?=

.PHONY: setup preview test lint bench docs clean

setup: $(STAMP) $(PACK_STAMP)

# Re-installs only when a requirements file or pyproject changes.
$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt stacks/requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt
	$(PY) -m pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	touch $(STAMP)

# From policies/requirements.txt only: the pack must not depend on anything the program installs.
$(PACK_STAMP): policies/requirements.txt
	test -x $(PACK_VENV)/bin/python || $(PYTHON) -m venv $(PACK_VENV)
	$(PACK_VENV)/bin/python -m pip install $(PIP_FLAGS) -r policies/requirements.txt
	touch $(PACK_STAMP)

## Offline preview: the stack under simulated AWS, judged by the policy pack.
# GNU make exits 0, or 2 whenever a recipe fails (GNU make manual, "How to Run make"): it cannot
# pass on the preview's 1. `make preview` therefore exits 0 (no mandatory violation) or 2, and
# names the preview's own status (1 = mandatory violations, 2 = bad input, 3 = internal error)
# in its last line; for the real 0/1/2 run `.venv/bin/python -m regulated_inference.preview` after `make setup`
# (as the workflows do).
preview: setup
	@$(PY) -m regulated_inference.preview --stack $(STACK) --format $(FORMAT) $(if $(OUTPUT),--output $(OUTPUT)) \
	  || { status=$$?; echo "make preview: the offline preview exited $$status" \
	       "(1 = mandatory violations, 2 = bad input, 3 = internal error)" >&2; exit $$status; }

test: setup
	$(PY) -m pytest -n 2

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(PY) -m tools.bench

## Regenerates the reference docs (checked by tests for staleness).
docs: setup
	$(PY) -m regulated_inference.preview.policy_config
	$(PY) -m tools.docs

clean:
	rm -rf $(VENV) $(PACK_VENV) .pytest_cache
