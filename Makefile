# The README's commands. `make run` serves the app with demo data on http://127.0.0.1:5000;
# `make test` runs the linter and the test suite. Both set everything up first and need no input.

VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
TRANSLATIONS := grants/translations

# Extra pytest arguments, e.g. make test PYTEST_ARGS="-x tests/domain"
PYTEST_ARGS ?=
BENCH_ARGS ?=

export PIP_NO_INPUT := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help run test check bench setup system-deps translations messages clean

help:
	@echo "make run     set up, migrate, load programs, create demo accounts, serve on http://127.0.0.1:5000"
	@echo "make test    set up, then ruff check and pytest (PYTEST_ARGS=... passes arguments on)"
	@echo "make check   validate the program files (flask grants check)"
	@echo "make bench   run the benchmarks (scripts/bench.py)"
	@echo "make messages  extract new strings into the Japanese catalog (then translate them)"
	@echo "make clean   remove the virtualenv, caches and build output (keeps instance/: your data)"

run: setup
	$(FLASK) grants init
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

check: $(STAMP)
	$(FLASK) grants check

bench: setup
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

setup: $(STAMP) system-deps translations

# Python 3.11 when there is one, else the default python3 (setup.cfg insists on >= 3.11).
# A half-made virtualenv (e.g. no ensurepip) is removed before the second try.
$(BIN)/python:
	python3.11 -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV) && python3 -m venv $(VENV); }

# Reinstall only when the package metadata changed since the last install.
$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Never fails: without root it prints what to install (see the script).
system-deps:
	@scripts/install-system-deps.sh

translations: $(STAMP)
	@if [ -d $(TRANSLATIONS) ] && find $(TRANSLATIONS) -name '*.po' | grep -q .; then \
		$(BIN)/pybabel -q compile -d $(TRANSLATIONS); \
	else \
		echo "translations: none to compile"; \
	fi

# pybabel skips folders starting with "_" by default: grants/templates/_macros must be read too.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --ignore-dirs='.* __pycache__' \
		-o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d $(TRANSLATIONS) -l ja --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache bench-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find grants -name '*.mo' -delete
