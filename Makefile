# The two commands of the README:
#   make demo   set up, load the sample scenario, issue and verify declarations, serve the site
#   make test   set up, run the whole test suite (SQLite and PostgreSQL) and ruff
# Everything is installed by these rules: a venv from pyproject.toml, Debian packages for
# PDF checks and the embedded CJK font, and the local PostgreSQL server started if it is down.

VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBIAN_PACKAGES := poppler-utils fonts-wqy-microhei chromium
export GREENLEDGER_TEST_POSTGRES_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: demo test setup system-packages postgres bench lint

demo: setup
	$(VENV)/bin/greenledger demo

test: setup postgres
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)
	$(VENV)/bin/ruff check .

bench: setup
	@dpkg -s wrk >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk >/dev/null)
	$(PY) -m bench

setup: $(VENV)/.installed system-packages

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

postgres:
	@bash .ci/postgres-up

lint: setup
	$(VENV)/bin/ruff check .
