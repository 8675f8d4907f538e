import pytest


@pytest.fixture(autouse=True)
def _fresh_cache(settings, request):
    """
    Each test starts with an empty cache, so no page leaks between tests.

    The page cache (articles/caching.py) is off except in tests marked
    `page_cache`: the query counts pinned elsewhere are those of an uncached
    page, without the cache's own lookup of the next scheduled publication.
    test_caching.py proves a cached page costs no query at all.
    """
    from django.core.cache import cache

    settings.NEWSROOM_CACHE_PAGES = request.node.get_closest_marker("page_cache") is not None
    cache.clear()
    yield
    cache.clear()
