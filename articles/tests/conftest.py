import pytest

from .factories import member_of


@pytest.fixture(autouse=True)
def _fresh_cache(settings, request):
    """
    Each test starts with an empty cache, so no page leaks between tests.

    The page cache (articles/caching/) is off except in tests marked
    `page_cache`: the query counts pinned elsewhere are those of a page built
    from scratch, without the cache's own lookup of the next scheduled
    publication. test_caching.py proves a cached page costs no query at all.
    """
    from django.core.cache import cache, caches

    cached = request.node.get_closest_marker("page_cache") is not None
    settings.NEWSROOM_CACHE_PAGES = cached
    cache.clear()
    caches["local_pages"].clear()
    yield
    cache.clear()
    caches["local_pages"].clear()


@pytest.fixture
def server_database(tmp_path):
    """A DATABASE_URL for gunicorn processes, on the engine the tests run on (articles/tests/servers.py)."""
    from .servers import scratch_database

    with scratch_database(tmp_path) as database_url:
        yield database_url


# The newsroom's roles (articles/roles.py), for the workflow, publishing and admin tests.
@pytest.fixture
def reporter():
    return member_of("Reporter", "rita")


@pytest.fixture
def editor():
    return member_of("Editor", "eddie")


@pytest.fixture
def reporter_client(client, reporter):
    client.force_login(reporter)
    return client


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
