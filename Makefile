# The two commands in the README: `make run` and `make test`. Everything else is a helper.
VENV    ?= .venv
PYTHON  ?= python3
# `make run` installs the node alone (pip install -e .); the tests, the sensor and the benchmarks need the extras.
EXTRAS  ?= test,sensor,ml,bench
NODE    := $(VENV)/.installed-node
STAMP   := $(VENV)/.installed
PORT    ?=

.PHONY: run test check bench clean screenshots

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(NODE): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e .
	touch $(NODE)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP) $(NODE)

## Start a node on the embedded SQLite store (creates it on first start and prints the admin key).
## `make run PORT=8700` serves on another port.
run: $(NODE)
	$(VENV)/bin/accord serve $(if $(PORT),--port $(PORT))

## Install what the tests need (Debian packages too) and run every check exactly as CI does.
test: $(STAMP)
	scripts/test

check: $(STAMP)
	scripts/check

## The console's screenshots in docs/console/ (a real node with sample data, in Debian's Chromium).
screenshots: $(STAMP)
	$(VENV)/bin/python scripts/screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
