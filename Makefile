# electricity-optimizer: `make repro` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

# offline hygiene: no telemetry, no update checks
export DVC_STUDIO_OFFLINE := 1
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export PATH := $(BIN):$(PATH)

.PHONY: install repro test sync-check nbtest pytest lab serve clean-venv

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# installs only when the lock or the package metadata changed
$(STAMP): requirements.lock setup.py settings.ini | $(VENV)/bin/python
	$(BIN)/pip install -r requirements.lock
	$(BIN)/pip install --no-deps -e .
	touch $@

install: $(STAMP)

repro: install
	dvc repro

# the whole suite; ends with pytest's summary line
test: install sync-check nbtest pytest

sync-check: install
	@before=$$(find nbs electricity_optimizer -type f \( -name '*.py' -o -name '*.ipynb' \) | sort | xargs sha256sum); \
	nbdev_export; nbdev_clean; \
	after=$$(find nbs electricity_optimizer -type f \( -name '*.py' -o -name '*.ipynb' \) | sort | xargs sha256sum); \
	if [ "$$before" != "$$after" ]; then \
	  diff <(echo "$$before") <(echo "$$after") || true; \
	  echo "notebooks and library were out of sync: nbdev_export/nbdev_clean changed the files above; commit them"; exit 1; \
	fi; echo "nbdev sync check: notebooks and library agree"

nbtest: install
	nbdev_test --n_workers 1 --timing

pytest: install
	python -m pytest tests

lab: install
	jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir=nbs

serve: install
	eo serve

clean-venv:
	rm -rf $(VENV)
