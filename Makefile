# kyodaku: two commands on a fresh Debian machine with Python 3.11:
#   make demo   creates .venv, installs kyodaku (runtime dependencies only), runs the offline demo
#   make test   creates .venv, installs kyodaku with its test tools, runs the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint typecheck install install-test eval figures screenshots clean

# runtime dependencies only (no Ray, Playwright, schemathesis: those are the test extra)
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

# the test extra on top
$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

install-test: $(BIN)/.installed-test

demo: install
	PYTHONPATH=demo $(BIN)/python -m kyodaku_demo --out demo-out

# the linter, then the type checker (both configured in pyproject.toml), then the suite
lint: install-test
	$(BIN)/ruff check src tests benchmarks demo
	$(MAKE) --no-print-directory typecheck

# mypy, strict in the packages pyproject.toml's [tool.mypy] files lists (index, policy, records, audit, signals, text, corpus)
typecheck: install-test
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

# accuracy on an evaluation set: make eval SET=/path/to/devset (built with ../shared/eval/build_devset.py)
# the README's screenshots (docs/img) of the demo's desk and report; needs Debian's chromium
screenshots: install-test demo
	PYTHONPATH=demo $(BIN)/python demo/screenshots.py --demo demo-out --out docs/img

eval: install
	$(BIN)/python benchmarks/eval_set.py $(SET)

# the figure tables of README.md and docs/benchmarks.md, rewritten from docs/figures/*.json
figures: install
	$(BIN)/python benchmarks/figures.py --write

clean:
	rm -rf $(VENV) demo-out bench-out .pytest_cache
