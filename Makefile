# The two commands in the README: `make run` and `make test`. Everything else is a helper.
VENV    ?= .venv
PYTHON  ?= python3
STAMP   := $(VENV)/.installed
EXTRAS  ?= test,sensor,ml,bench

.PHONY: run test check bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

## Start a node on the embedded SQLite store (creates it on first start and prints the admin key).
run: $(STAMP)
	$(VENV)/bin/accord serve

## Install what the tests need (Debian packages too) and run every check exactly as CI does.
test: $(STAMP)
	scripts/test

check: $(STAMP)
	scripts/check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
