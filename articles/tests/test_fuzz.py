"""
No request makes a public 500: hypothesis throws malformed paths, query
strings, percent-encodings and headers at every public URL pattern, taken
from the URLconf (everything but the admin and media), over a newsroom with
published, draft and scheduled stories, and every answer must be below 500.

FUZZ_EXAMPLES sets the number of requests (default 200: under a minute on
SQLite on the shared 2-core machine); CI runs it on SQLite and PostgreSQL.
"""

import os
import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Article, Correction

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
SKIPPED = ("admin/",)  # staff only, behind a login


def public_routes(patterns=None, prefix=""):
    """(route, converters) of every public URL pattern, e.g. ("tag/<tagslug:slug>/", {...})."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if not isinstance(pattern.pattern, RoutePattern):
            continue  # the media pattern (DEBUG only) is a regex over files
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED):
            continue
        if isinstance(pattern, URLResolver):
            yield from public_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.pattern.converters


ROUTES = sorted(public_routes())
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
KNOWN = ["africa", "mali", "amara", "2021", "10", "01", "published-story", "draft-story", "articles", "tags"]
QUERY_NAMES = ["page", "q", "in", "section", "tag", "p", "utm_source", "format", ""]
HEADERS = [
    "If-None-Match",
    "If-Modified-Since",
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "Cookie",
    "Range",
    "User-Agent",
    "Referer",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
]

any_text = st.text(max_size=40)
numbers = st.integers(min_value=-(10**25), max_value=10**25).map(str)
latin1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
percent_junk = st.from_regex(r"(%[0-9A-Fa-f]{2}|%[^0-9A-Fa-f]|%)+", fullmatch=True)


@st.composite
def parameter_values(draw, converter):
    """A value for one path parameter: well-formed for its converter, known, arbitrary, or raw percent junk."""
    value = draw(
        st.one_of(
            st.from_regex(converter.regex, fullmatch=True),
            st.sampled_from(KNOWN),
            any_text,
            numbers,
        )
    )
    if draw(st.booleans()):
        return quote(value, safe="")
    return quote(value, safe="/") + draw(st.sampled_from(["", draw(percent_junk)]))


@st.composite
def requests(draw):
    route, converters = draw(st.sampled_from(ROUTES))

    def fill(match):
        return draw(parameter_values(converters[match[1]]))

    path = "/" + PARAMETER.sub(fill, route)
    if draw(st.booleans()):
        pairs = draw(
            st.lists(
                st.tuples(st.sampled_from(QUERY_NAMES), st.one_of(any_text, numbers, st.sampled_from(KNOWN))),
                max_size=4,
            )
        )
        query = "&".join(
            f"{quote(name)}={quote(value, safe=draw(st.sampled_from(['', '%&=+'])))}" for name, value in pairs
        )
        if draw(st.booleans()):
            query += draw(percent_junk)
        path += "?" + query
    headers = draw(st.dictionaries(st.sampled_from(HEADERS), latin1, max_size=3))
    return draw(st.sampled_from(["get", "get", "head"])), path, headers


@pytest.fixture
def newsroom():
    """Something behind every pattern: a published, a draft and a scheduled story in one section, tag and author."""
    section = make_section("Africa", slug="africa", description="News from the continent.")
    author = make_author("Amara", slug="amara")
    common = {"section": section, "authors": [author], "tags": ["Mali"]}
    published = make_article(slug="published-story", published_at=datetime(2021, 10, 1, 9, tzinfo=UTC), **common)
    make_article(slug="draft-story", status=Article.Status.DRAFT, **common)
    make_article(slug="scheduled-story", days=3, **common)
    Correction.objects.create(article=published, text="An earlier version said otherwise.")


def test_every_public_pattern_is_fuzzed():
    routes = {route for route, _ in ROUTES}
    assert {"", "tag/<tagslug:slug>/feed/rss/", "<yyyy:year>/<mm:month>/<dd:day>/<slug:slug>/", "search/"} <= routes
    assert "sitemap-<section>.xml" in routes and not any(route.startswith("admin/") for route in routes)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests())
def test_no_input_makes_a_public_500(client, newsroom, request):
    method, path, headers = request
    response = getattr(client, method)(path, headers=headers)
    assert response.status_code < 500, (method, path, headers)
