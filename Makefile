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
	NEWSROOM_WEBAUTHN_ORIGINS=http://localhost:$(PORT) DJANGO_SECRET_KEY="$$(cat var/secret_key)"

.PHONY: help run worker migrate serve serve-cached bench bench-images loadtest faulttest audit test lint format check clean

help:
	@echo "make run    set up and serve the demo newsroom on http://$(HOST):$(PORT)"
	@echo "make test   install the test requirements and run the whole suite"
	@echo "make serve  serve production-like with gunicorn.conf.py (settings from the environment)"
	@echo "make worker run the background worker (photo renditions) with the settings from the environment"
	@echo "make serve-cached  the same behind Varnish on VARNISH_PORT (6081), purged on every change (docs/varnish.md)"
	@echo "make bench  benchmark with wrk at NS=\"1000 10000 100000\" articles (PEER=1: the Wagtail peer too)"
	@echo "make loadtest  60 s of readers at 64 connections while an editor publishes; zero 5xx, changes visible in 1 s"
	@echo "make faulttest restart PostgreSQL under load: 503 pages while it is down, back by itself (test machines only)"
	@echo "make bench-images  photo benchmark: renditions of a 12-megapixel JPEG, article page weight on a phone"
	@echo "make audit  Lighthouse on the demo site: accessibility, SEO, best practices 100, performance >= 95"
	@echo "make migrate  apply the database migrations (DATABASE_URL, SQLite when unset)"
	@echo "make check  Django's system checks and no missing migrations"
	@echo "make lint   ruff check and format check"
	@echo "make format ruff fix and format"
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
	$(DEMO_ENV) $(PY) manage.py load_demo_images
	$(DEMO_ENV) $(PY) manage.py demo_editor
	@echo "Serving on http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/; passkeys: http://localhost:$(PORT)/admin/). Ctrl-C stops."
	@# The demo photos' renditions were made by load_demo_images; the worker beside gunicorn makes those
	@# of new uploads. Ctrl-C (or gunicorn exiting) stops both.
	@$(DEMO_ENV) $(PY) manage.py db_worker --interval 1 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
		$(DEMO_ENV) $(VENV)/bin/gunicorn newsroom.wsgi:application --bind $(HOST):$(PORT) \
			--workers 2 --access-logfile - --log-level info

# Production-like serving: the environment decides (DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
# DATABASE_URL, REDIS_URL, ...; DJANGO_DEBUG defaults to 0 here). gunicorn.conf.py sets
# workers, threads, timeouts and logs; GUNICORN_BIND or HOST/PORT choose the address.
serve: $(VENV)/.installed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-0} $(PY) manage.py collectstatic --noinput -v0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-0} HOST=$(HOST) PORT=$(PORT) exec $(VENV)/bin/gunicorn -c gunicorn.conf.py newsroom.wsgi

# The background worker: photo renditions and any other django.tasks work, queued in the database
# (django-tasks-db). Run one or more beside `make serve` in production (docs/deployment.md).
worker: $(VENV)/.installed
	exec $(PY) manage.py db_worker

# `make serve` behind Varnish (varnish/default.vcl, installed with apt-get when missing): gunicorn on
# HOST:PORT, Varnish on 127.0.0.1:VARNISH_PORT purged by the site (NEWSROOM_PURGE_URLS); Ctrl-C stops both.
VARNISH_PORT ?= 6081
serve-cached: $(VENV)/.installed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-0} $(PY) manage.py collectstatic --noinput -v0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-0} HOST=$(HOST) PORT=$(PORT) VARNISH_PORT=$(VARNISH_PORT) exec $(PY) -m varnish.run

# Benchmark: `make bench`, `make bench NS="1000 10000" PEER=1`. See bench/run.sh for the knobs.
NS ?= 1000 10000 100000
bench: $(VENV)/.installed
	NS="$(NS)" PEER="$(PEER)" MODES="$(MODES)" bench/run.sh

# Load test: 60 s at 64 connections on public pages while an editor publishes through the admin
# (LOADTEST_SECONDS, LOADTEST_N, DATABASE_URL, REDIS_URL: see bench/loadtest.py). Exits 1 on a missed target.
loadtest: $(VENV)/.installed-dev
	$(PY) bench/loadtest.py

# Fault test: restarts the local PostgreSQL (pg_ctlcluster) under load; every client of it is cut off
# while it is down, so run it on a test machine. See bench/faulttest.py.
faulttest: $(VENV)/.installed-dev
	$(PY) bench/faulttest.py

# Lighthouse (pinned, installed here rather than globally) on the demo site served by
# gunicorn as `make run` serves it, on AUDIT_PORT with its own database (var/audit.sqlite3).
AUDIT_PORT ?= 8011
LIGHTHOUSE := var/node/node_modules/.bin/lighthouse

$(LIGHTHOUSE):
	@mkdir -p var/node
	npm install --prefix var/node --no-audit --no-fund --save-exact lighthouse@12.2.3

audit: $(VENV)/.installed var/secret_key $(LIGHTHOUSE)
	@bin/ensure-chromium
	$(DEMO_ENV) DATABASE_URL=sqlite:///$(CURDIR)/var/audit.sqlite3 CHROME_PATH=/usr/bin/chromium \
		$(PY) bin/audit --port $(AUDIT_PORT)

# Test processes (pytest-xdist): one per core; TEST_WORKERS=0 runs in this process (for pdb).
TEST_WORKERS ?= 2

test: $(VENV)/.installed-dev
	@bin/ensure-chromium
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Photos benchmark (not a test): rendition time for a 12-megapixel JPEG and the article page's
# transfer size on a phone. Uses its own throwaway SQLite database and a temporary media folder.
BENCH_DB = sqlite:///$(CURDIR)/var/bench-images.sqlite3
bench-images: $(VENV)/.installed-dev
	@mkdir -p var && rm -f var/bench-images.sqlite3*
	DATABASE_URL=$(BENCH_DB) $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DB) $(PY) manage.py loaddata demo -v0
	DATABASE_URL=$(BENCH_DB) $(PY) bench/images.py
	@rm -f var/bench-images.sqlite3*

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
