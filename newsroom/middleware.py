"""
A database outage answers 503 "Service temporarily unavailable", not 500.

When the database cannot be reached (PostgreSQL restarting or down, the
connection pool timing out, the SQLite file unopenable or locked), a view
raises OperationalError or InterfaceError. Readers then get templates/503.html
with `Retry-After` and `Cache-Control: no-store`, and the log gets one warning
line per request instead of a traceback: an outage is an operations event, not
a bug. Other database errors (a missing table on PostgreSQL, an integrity
error) still reach Django's 500 handling, traceback and all.

The page renders without the database: it extends nothing (base.html lists the
sections) and gets no context processors. Recovery needs nothing here: Django
drops a connection that failed when the request ends, and checks a kept or
pooled one before using it (CONN_HEALTH_CHECKS), so the first request after the
database is back gets a fresh connection.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response

logger = logging.getLogger("newsroom.database_unavailable")

RETRY_AFTER_SECONDS = 30

# SQLite reports bad SQL ("no such table") as OperationalError too; these primary
# result codes are the ones that mean the file cannot be used just now.
SQLITE_UNAVAILABLE = {
    5,  # SQLITE_BUSY: locked by another connection past the timeout
    6,  # SQLITE_LOCKED
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
}


def database_unavailable(exc):
    """True when `exc` says the database cannot be reached or used just now (not that the query is wrong)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    code = getattr(exc.__cause__, "sqlite_errorcode", None)
    return code is None or code & 0xFF in SQLITE_UNAVAILABLE


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        response = HttpResponse(
            render_to_string("503.html", {"site_name": settings.NEWSROOM_NAME}),
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        add_never_cache_headers(response)
        # One line, no traceback; log_response also marks the response as logged,
        # so django.request does not log it again as an error.
        log_response(
            "Database unavailable, answered 503: %s %s (%s: %s)",
            request.method,
            request.get_full_path(),
            type(exception).__name__,
            " ".join(str(exception).split()),
            response=response,
            request=request,
            logger=logger,
            level="warning",
        )
        return response


class PublicPageGZipMiddleware(GZipMiddleware):
    """
    Django's gzip for pages without secrets in them. A page that carries a CSRF
    token (the admin's forms, the login page) is left uncompressed, so BREACH
    has nothing to guess, on top of Django's own defences (masked tokens,
    random gzip padding); public pages have no token. Streamed responses
    (photos served in the demo) are already compressed formats.
    """

    def process_response(self, request, response):
        # Using the token (get_token()) always (re)sets the CSRF cookie.
        if response.streaming or settings.CSRF_COOKIE_NAME in response.cookies:
            return response
        return super().process_response(request, response)
