"""
Purging the HTTP caches in front of the site (Varnish now, a CDN later).

The cache layer calls ``purge(keys)`` once a change has committed, with the
dependency keys of every page the change can show on (``article-12``,
``home``, ...); each cache in NEWSROOM_PURGE_URLS then drops the pages
carrying any of those keys. A cache that cannot be reached is logged, never
raised: the editor's save has committed, and the pages expire by themselves
(their s-maxage).

Settings: NEWSROOM_PURGE_URLS (a list, or comma-separated, of cache base URLs,
e.g. ``http://127.0.0.1:6081``; none: nothing to purge) and
NEWSROOM_PURGE_TOKEN (a shared secret sent as X-Purge-Token; Varnish accepts
purges from this machine without it, see varnish/default.vcl).

Each kind of cache is a small class with a ``purge(keys)`` method and a
``repeat_after`` (seconds until the second purge, None for none), chosen by
the URL's scheme in ``KINDS``: a CDN's purge API (Fastly's Surrogate-Key,
Cloudflare's Cache-Tag, which the pages carry already) is one more class and
one more scheme.

The race. A reader's request that started rendering before the change
committed can reach the cache after the purge, with the old page. So every
cache is purged twice: at once, and again REPEAT_AFTER (0.5 s) later from a
background timer, which drops any such page that arrived in between. A page
that arrives later still must have been fetched for longer than that while
the purge happened: varnish/default.vcl does not keep those (it knows when each
fetch started and when the last purge came). A page the site renders from its
own page cache is checked there too: one whose keys changed while it rendered
goes out with s-maxage=0 (articles/caching/pages.py). Readers may thus see the
old page for at most REPEAT_AFTER after the save, within the 1 s we promise.
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
