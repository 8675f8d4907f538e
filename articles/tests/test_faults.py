"""
A database outage answers a clean 503 page and the site recovers by itself.

In-process tests make the database fail under a view (newsroom/middleware.py);
the server test cuts a real gunicorn's database away and gives it back: on
PostgreSQL through a TCP proxy the test controls (the machine's PostgreSQL is
never restarted; `make faulttest` does that), on SQLite by putting something
unopenable where the database file was.
"""

import contextlib
import json
import re
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.template.loader import render_to_string
from django.test import Client

from newsroom.middleware import RETRY_AFTER_SECONDS, database_unavailable

from .factories import make_article
from .servers import fetch, gunicorn, manage, on_postgresql, scratch_database, server_env

UNAVAILABLE = "Service temporarily unavailable"


@contextlib.contextmanager
def failing_database(error):
    """Every query in this thread raises `error`, as a dead connection does."""

    def fail(execute, sql, params, many, context):
        raise error

    with connection.execute_wrapper(fail):
        yield


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert f'<h1 class="page-title">{UNAVAILABLE}</h1>' in page
    assert page.count("<h1") == 1
    assert '<meta name="robots" content="noindex">' in page


# In process ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused"),
        InterfaceError("connection already closed"),
    ],
    ids=["operational", "interface"],
)
def test_a_database_outage_answers_the_503_page(client, error, caplog):
    article = make_article()
    for url in ("/", article.get_absolute_url(), "/feed/rss/", "/search/?q=mali"):
        caplog.clear()
        with failing_database(error):
            response = client.get(url)
        assert_unavailable_page(response)
        assert response.templates[0].name == "503.html"
        # One warning line per request, without a traceback; Django does not log it again.
        records = [(r.name, r.levelname, r.exc_info) for r in caplog.records]
        assert records == [("newsroom.database_unavailable", "WARNING", None)], records
        message = caplog.records[0].getMessage()
        assert message.startswith(f"Database unavailable, answered 503: GET {url} ")
        assert str(error) in message


@pytest.mark.django_db
def test_the_admin_answers_503_too(admin_client):
    with failing_database(OperationalError("the database system is shutting down")):
        response = admin_client.get("/admin/articles/article/")
    assert_unavailable_page(response)


@pytest.mark.django_db
@pytest.mark.page_cache
def test_a_503_is_never_cached_and_the_page_comes_back(client):
    article = make_article(headline="Back after the outage")
    with failing_database(OperationalError("server closed the connection unexpectedly")):
        assert_unavailable_page(client.get(article.get_absolute_url()))
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert "Back after the outage" in response.content.decode()


@pytest.mark.django_db
def test_healthz_agrees_and_logs_one_line(client, caplog):
    with failing_database(OperationalError("Connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "cache": "ok"}
    records = [(r.name, r.levelname, r.exc_info, r.getMessage()) for r in caplog.records]
    assert records == [
        ("newsroom.health", "WARNING", None, "Health check failed: database (OperationalError: Connection refused)")
    ]


@pytest.mark.django_db
@pytest.mark.page_cache
def test_pages_in_the_cache_are_still_served_while_the_database_is_down(client):
    article = make_article(headline="Cached before the outage")
    assert client.get(article.get_absolute_url()).status_code == 200  # rendered and stored
    with failing_database(OperationalError("connection refused")):
        cached = client.get(article.get_absolute_url())
        not_cached = client.get("/")
    assert cached.status_code == 200
    assert "Cached before the outage" in cached.content.decode()
    assert_unavailable_page(not_cached)


def test_the_503_page_renders_without_the_database():
    # Not marked django_db: a query would raise "Database access not allowed".
    page = render_to_string("503.html", {"site_name": "The Daily Test"})
    assert UNAVAILABLE in page
    assert "The Daily Test" in page
    assert 'href="/"' in page


@pytest.mark.django_db
def test_other_database_errors_stay_500s(caplog):
    """A bug (here a broken constraint) is not an outage: the 500 page, and Django's error log with its traceback."""
    client = Client(raise_request_exception=False)
    with failing_database(IntegrityError("duplicate key value violates unique constraint")):
        response = client.get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    errors = [r for r in caplog.records if r.name == "django.request"]
    assert errors
    assert errors[0].levelname == "ERROR"
    assert errors[0].exc_info


def sqlite_error(sql, database=":memory:"):
    try:
        sqlite3.connect(database).execute(sql)
    except sqlite3.Error as error:
        return error
    raise AssertionError("no error")


def wrapped(error):
    """The driver's error as Django raises it (django.db.utils wraps it, with the driver's as __cause__)."""
    wrapper = OperationalError if isinstance(error, sqlite3.OperationalError) else DatabaseError
    try:
        raise wrapper(*error.args) from error
    except DatabaseError as django_error:
        return django_error


def test_sqlite_errors_that_mean_unavailable(tmp_path):
    (tmp_path / "gone").mkdir()
    cannot_open = sqlite_error("SELECT 1", database=tmp_path / "gone")
    no_such_table = sqlite_error("SELECT * FROM articles_nothing")
    assert cannot_open.sqlite_errorname == "SQLITE_CANTOPEN"
    assert database_unavailable(wrapped(cannot_open))
    # SQLite reports bad SQL as OperationalError too: that is a bug, not an outage.
    assert no_such_table.sqlite_errorname == "SQLITE_ERROR"
    assert not database_unavailable(wrapped(no_such_table))
    assert not database_unavailable(DatabaseError("file is not a database"))
    assert database_unavailable(OperationalError("could not connect to server"))


# A real server losing its database ----------------------------------------------------------------


class CuttableProxy:
    """
    A TCP proxy on 127.0.0.1 in front of the database port. cut() closes every
    connection through it and refuses new ones, as a database that went away
    does; restore() listens again on the same port.
    """

    def __init__(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.lock = threading.Lock()
        self.sockets = set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._serve(self.listener)

    def _serve(self, listener):
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            self._close(sock)

    def _close(self, sock):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self):
        self._close(self.listener)  # shutdown() wakes the thread blocked in accept()
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            self._close(sock)

    def restore(self):
        self.listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the port again
        self._serve(self.listener)


def sqlite_outage(database_url):
    """Put a directory where the SQLite file was (SQLITE_CANTOPEN), and move the file back."""
    path = database_url.removeprefix("sqlite:///")
    files = [Path(path + suffix) for suffix in ("", "-wal", "-shm")]

    def cut():
        for file in files:
            if file.exists():
                file.rename(file.with_name(file.name + ".aside"))
        files[0].mkdir()

    def restore():
        files[0].rmdir()
        for file in files:
            aside = file.with_name(file.name + ".aside")
            if aside.exists():
                aside.rename(file)

    return cut, restore


def test_a_server_answers_503_while_its_database_is_down_and_recovers_by_itself(tmp_path):
    with scratch_database(tmp_path) as database_url:
        env = server_env(tmp_path, database_url)
        manage(env, "migrate", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "loaddata", "demo", "-v0")
        script = "from articles.models import Article; print(Article.objects.published().first().get_absolute_url())"
        article_url = manage(env, "shell", "-c", script).strip().splitlines()[-1]

        if on_postgresql():
            proxy = CuttableProxy(int(re.search(r":(\d+)/[^/]*$", database_url).group(1)))
            proxied = re.sub(r":\d+/([^/]*)$", rf":{proxy.port}/\1", database_url)
            servers = {
                # Each worker keeps its connection (CONN_MAX_AGE) and health-checks it before reuse.
                "kept connection": server_env(tmp_path, proxied),
                # psycopg's pool: a request waits DJANGO_DB_POOL_TIMEOUT for a connection, then 503.
                "pool": server_env(tmp_path, proxied, DJANGO_DB_POOL="1", DJANGO_DB_POOL_TIMEOUT="2"),
            }
            cut, restore = proxy.cut, proxy.restore
        else:
            # A kept connection holds the file open whatever happens to its name: open one per
            # request, so that the outage below (the file gone from its path) reaches the server.
            servers = {"connection per request": server_env(tmp_path, database_url, DJANGO_CONN_MAX_AGE="0")}
            cut, restore = sqlite_outage(database_url)

        with contextlib.ExitStack() as stack:
            running = {label: stack.enter_context(gunicorn(tmp_path, env)) for label, env in servers.items()}
            paths = ("/", article_url, "/feed/rss/", "/section/africa/")
            for label, (port, _) in running.items():
                for path in paths:
                    assert fetch(port, path)[0] == 200, (label, path)

            cut()
            answered_503 = dict.fromkeys(running, 0)
            try:
                for label, (port, _) in running.items():
                    for path in paths:
                        status, headers, page = fetch(port, path)
                        assert status == 503, (label, path, status, page[:500])
                        answered_503[label] += 1
                        assert f'<h1 class="page-title">{UNAVAILABLE}</h1>' in page
                        assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
                        assert "no-store" in headers["Cache-Control"]
                    status, _, body = fetch(port, "/healthz")
                    assert (status, json.loads(body)["database"]) == (503, "unavailable"), label
            finally:
                restore()

            # Back without a restart: the same gunicorn, a fresh connection.
            for label, (port, _) in running.items():
                deadline = time.monotonic() + 30
                while (status := fetch(port, "/")[0]) != 200:
                    assert status == 503, (label, status)
                    answered_503[label] += 1
                    assert time.monotonic() < deadline, f"{label}: still {status} 30 s after the database came back"
                    time.sleep(0.2)
                for path in (*paths, "/healthz"):
                    assert fetch(port, path)[0] == 200, (label, path)

            for label, (_, log_path) in running.items():
                log = log_path.read_text()
                assert "Traceback" not in log, f"{label}:\n{log}"
                assert log.count("Booting worker") == 1, f"{label}: the worker was restarted\n{log}"
                # One warning per 503 page, none for the pages that answered.
                assert log.count("Database unavailable, answered 503") == answered_503[label], f"{label}:\n{log}"
