"""The health endpoint for load balancers: /healthz."""

import logging
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils.log import log_response
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
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        checks["database"] = "unavailable"
        problems.append(f"database ({type(error).__name__}: {' '.join(str(error).split())})")
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        if cache.get(key) != "ok":
            checks["cache"] = "unavailable"
            problems.append("cache (a key written could not be read back)")
        cache.delete(key)
    except Exception as error:  # any backend's connection error (redis, memcached, ...)
        checks["cache"] = "unavailable"
        problems.append(f"cache ({type(error).__name__}: {' '.join(str(error).split())})")
    response = JsonResponse(checks, status=503 if problems else 200)
    if problems:
        # One warning line per probe, no traceback (probes come every few seconds), as
        # newsroom/middleware.py logs a page's 503; django.request does not log it again.
        log_response(
            "Health check failed: %s",
            "; ".join(problems),
            response=response,
            request=request,
            logger=logger,
            level="warning",
        )
    return response
