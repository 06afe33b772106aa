# The two set-up commands are `make demo` and `make test`; both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Editable as a plain path on sys.path, the way an installed package is found. setuptools'
# default editable finder is imported by every Python start in the venv (with pathlib, re and
# urllib.parse: 49 M instructions, more than `python -c pass` itself), so it made the bench's
# `python -c pass` baseline of the cold commands twice as dear as on an installed qrecords.
EDITABLE := --config-settings editable_mode=compat -e

.PHONY: demo test bench nightly deps system-deps clean

deps: system-deps $(BIN)/qrec

system-deps:
	@bash tools/install-system-deps.sh

$(BIN)/qrec: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(EDITABLE) '.[test]'
	$(BIN)/python -m compileall -q qrecords  # bytecode before the first command, not by it
	@touch $@

demo: deps
	@bash tools/demo.sh

test: deps
	$(BIN)/pytest

# The heavy variants of the tests (minutes): more processes and rounds, every PDF made.
nightly: deps
	QREC_HEAVY=1 $(BIN)/pytest tests/test_concurrency.py tests/test_crash.py

bench: deps
	$(BIN)/pip install --quiet --disable-pip-version-check $(EDITABLE) '.[test,bench]'
	$(BIN)/python -m compileall -q qrecords
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) demo bench/work .pytest_cache
