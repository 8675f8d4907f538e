"""The health endpoint for load balancers: /healthz."""

import logging
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """
    200 {"database": "ok", "cache": "ok"} when this app server can query its
    database (SELECT 1) and write and read its cache; otherwise 503 naming
    what failed, so a load balancer takes the server out of rotation.
    """
    checks = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database is unavailable.", exc_info=True)
        checks["database"] = "unavailable"
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        if cache.get(key) != "ok":
            checks["cache"] = "unavailable"
        cache.delete(key)
    except Exception:  # any backend's connection error (redis, memcached, ...)
        logger.warning("Health check: the cache is unavailable.", exc_info=True)
        checks["cache"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
