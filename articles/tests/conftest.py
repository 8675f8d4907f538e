import pytest


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test starts with an empty cache, so no page leaks between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
