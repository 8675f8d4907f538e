"""
Caching by dependency: keys.py says what a page shows and what a change makes
stale; pages.py stores and serves pages; purge.py tells HTTP caches in front
(Varnish, a CDN). docs/caching.md has the whole model.
"""

from .pages import PageCacheMiddleware, cache_public_page

__all__ = ["PageCacheMiddleware", "cache_public_page"]
