# The newsroom CMS. `make run` serves the demo site; `make test` runs the suite.
# Both work on a fresh machine with Python 3.12 or newer somewhere on it.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The first interpreter that really runs and is 3.12+ (pyenv shims for an
# unselected version exit non-zero, so each candidate is run, not just found).
PYTHON ?= $(shell bin/find-python)

# Local demo mode: production settings (DEBUG off, hashed static files) over
# plain HTTP on this machine, with a secret key generated once into var/.
DEMO_ENV = NEWSROOM_DEMO=1 DJANGO_DEBUG=0 DJANGO_HTTPS=0 DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost \
	DJANGO_SECRET_KEY="$$(cat var/secret_key)"

.PHONY: help run serve-demo test test-fast lint format migrate check clean

help:
	@echo "make run    set up and serve the demo newsroom on http://$(HOST):$(PORT)"
	@echo "make test   install the test requirements and run the whole suite"
	@echo "make lint   ruff check and format check"
	@echo "make clean  remove the virtualenv, the local database and generated files"

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: no Python 3.12 or newer found. Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; \
		exit 1; fi
	@[ -x $(PY) ] || { echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

var/secret_key: $(VENV)/.installed
	@mkdir -p var
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@chmod 600 $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

run: $(VENV)/.installed var/secret_key
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(DEMO_ENV) $(PY) manage.py loaddata demo
	$(DEMO_ENV) $(PY) manage.py demo_editor
	@echo "Serving on http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/). Ctrl-C stops."
	$(DEMO_ENV) $(VENV)/bin/gunicorn newsroom.wsgi:application --bind $(HOST):$(PORT) \
		--workers 2 --access-logfile - --log-level info

test: $(VENV)/.installed-dev
	@bin/ensure-chromium
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: $(VENV)/.installed
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache .ruff_cache
