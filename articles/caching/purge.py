"""
Purging the HTTP caches in front of the site (NEWSROOM_PURGE_URLS: Varnish now;
a CDN's purge API is one more class in KINDS). `purge(keys)` runs once a change
has committed; a cache that cannot be reached is logged, never raised into the
editor's save. Each purge is sent twice, the second 0.5 s later, and the VCL
refuses slow fetches that spanned a purge: docs/varnish.md explains the race.
"""

import itertools
import logging
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

TIMEOUT = 2  # seconds a cache has to answer; the editor's save waits for it
BATCH = 200  # keys a request, well inside Varnish's 8 KiB header limit
REPEAT_AFTER = 0.5  # seconds; varnish/default.vcl does not keep fetches that spanned a purge and took longer
# No proxy from the environment: the caches are addressed directly.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class VarnishCache:
    """A Varnish running varnish/default.vcl: a PURGE request, the keys in its xkey-purge header."""

    repeat_after = REPEAT_AFTER

    def __init__(self, url, *, token=""):
        self.url = url.rstrip("/") + "/"
        self.token = token

    def __repr__(self):
        return f"<VarnishCache {self.url}>"

    def purge(self, keys):
        headers = {"X-Purge-Token": self.token} if self.token else {}
        for batch in itertools.batched(sorted(keys), BATCH):
            request = urllib.request.Request(
                self.url, method="PURGE", headers={**headers, "xkey-purge": " ".join(batch)}
            )
            with opener.open(request, timeout=TIMEOUT) as response:
                response.read()


KINDS = {"http": VarnishCache, "https": VarnishCache}


def enabled():
    return bool(getattr(settings, "NEWSROOM_PURGE_URLS", None))


def configured_caches():
    """One object per cache in NEWSROOM_PURGE_URLS."""
    urls = getattr(settings, "NEWSROOM_PURGE_URLS", [])
    if isinstance(urls, str):
        urls = urls.split(",")
    token = getattr(settings, "NEWSROOM_PURGE_TOKEN", "") or ""
    caches = []
    for url in filter(None, (url.strip() for url in urls)):
        kind = KINDS.get(urlsplit(url).scheme)
        if kind is None:
            logger.error("NEWSROOM_PURGE_URLS: no kind of cache for %s (known schemes: %s)", url, ", ".join(KINDS))
            continue
        caches.append(kind(url, token=token))
    return caches


def purge_one(cache, keys):
    """Purge `keys` from one cache; a failure is logged, not raised."""
    try:
        cache.purge(keys)
    except Exception as error:  # refused, timed out, 403, 5xx: the save has committed all the same
        logger.error(
            "Could not purge %d keys (%s) from %r, so its pages may stay stale until they expire: %s",
            len(keys),
            " ".join(sorted(keys)[:10]),
            cache,
            error,
        )
        return False
    return True


def purge(keys):
    """Drop the pages carrying any of `keys` from every configured HTTP cache (after a commit)."""
    keys = {str(key) for key in keys}
    if not keys:
        return
    for cache in configured_caches():
        purge_one(cache, keys)
        if cache.repeat_after:
            timer = threading.Timer(cache.repeat_after, purge_one, args=(cache, keys))
            timer.daemon = True
            timer.start()
