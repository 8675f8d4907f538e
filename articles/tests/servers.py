"""
Real app servers for tests: gunicorn processes with production settings on a
database of the engine under test (a fresh SQLite file, or a fresh PostgreSQL
database next to the test database, dropped afterwards). Starting and stopping
them is bench/servers.py's, shared with the load and fault tests.
"""

import contextlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings

from bench import servers
from bench.servers import free_port

ROOT = Path(settings.BASE_DIR)


def on_postgresql():
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def postgresql_url(name, *, port=None):
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{port or db.get('PORT') or 5432}/{name}"


@contextlib.contextmanager
def scratch_database(tmp_path):
    """
    A DATABASE_URL for server processes, on the engine the tests run on: a
    SQLite file in tmp_path, or a new PostgreSQL database (named after the
    configured one, so parallel runs with their own names keep apart) that
    is dropped afterwards, whoever is still connected.
    """
    if not on_postgresql():
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    import psycopg

    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_srv_{uuid.uuid4().hex[:10]}"
    admin_url = postgresql_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgresql_url(name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(tmp_path, database_url, **variables):
    """The production environment the servers and manage.py run with."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "DJANGO_SECRET_KEY": "test-servers-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
        "NEWSROOM_SERVE_MEDIA": "0",
        "NEWSROOM_CACHE_PAGES": "0",
        # DEBUG off serves hashed static files from a manifest, which collectstatic writes.
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "GUNICORN_ACCESS_LOG": "",
        **variables,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if "REDIS_URL" not in variables:
        env.pop("REDIS_URL", None)  # a local-memory cache unless the test shares one
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout


def fetch(port, path, *, timeout=15):
    """(status, headers, body) of a GET; error statuses are answers too."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read().decode()


@contextlib.contextmanager
def gunicorn(tmp_path, env, *, workers=1, ready="/healthz"):
    """A gunicorn on a free port, serving newsroom.wsgi with `env`; yields (port, log path)."""
    port = free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    with servers.gunicorn(env, log_path=log_path, port=port, workers=workers, ready=ready):
        yield port, log_path
