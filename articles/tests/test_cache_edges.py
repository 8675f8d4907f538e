"""
The page cache's edges (issue 13): a page rendered across a scheduled
publication never outlives it; content cannot forge the CSP nonce placeholder;
query parameters a view does not read make no new entries; s-maxage does not
tell the second an embargoed story goes out.
"""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from articles.caching import pages as page_cache

from .factories import make_article

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]

START = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)


def nonce_of(response):
    return response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]


def test_a_page_rendered_across_a_scheduled_time_does_not_outlive_it():
    """The expiry is read before rendering: a render that ends after the publication is not kept past it."""
    client = Client()
    home = reverse("articles:home")
    with time_machine.travel(START, tick=False) as clock:
        make_article(published_at=START - timedelta(days=1), headline="Already out")
        make_article(published_at=START + timedelta(seconds=1), headline="Embargoed scoop")
        storable = page_cache.is_storable

        def slow_render(*args):
            clock.shift(timedelta(seconds=3))  # the publication passes while the page renders
            return storable(*args)

        with patch.object(page_cache, "is_storable", slow_render):
            first = client.get(home)
        assert b"Embargoed scoop" not in first.content
        assert "s-maxage=0" in first["Cache-Control"]
        assert b"Embargoed scoop" in client.get(home).content


@pytest.mark.parametrize("where", ["headline", "search"])
def test_content_cannot_forge_the_nonce_placeholder(client, where):
    placeholder = page_cache.NONCE_PLACEHOLDER.decode()
    article = make_article(headline=f"Tricky {placeholder} headline", standfirst=placeholder, body="<p>comet</p>")
    url = article.get_absolute_url() if where == "headline" else reverse("articles:search") + f"?q={placeholder}"
    client.get(url)
    hit = client.get(url)
    assert b"&lt;!--newsroom:csp-nonce--&gt;" in hit.content  # the text, as typed
    assert page_cache.NONCE_PLACEHOLDER not in hit.content
    if "'nonce-" in hit["Content-Security-Policy"]:  # pages with a script (JSON-LD)
        nonce = nonce_of(hit)
        # The live nonce appears only in nonce="" attributes, never where the content's text is.
        assert hit.content.count(nonce.encode()) == hit.content.count(f'nonce="{nonce}"'.encode()) > 0


def test_query_parameters_the_view_does_not_read_make_no_new_entries(client, django_assert_num_queries):
    make_article(days=-1)
    home = reverse("articles:home")
    client.get(f"{home}?utm_source=0")
    with django_assert_num_queries(0):
        for n in range(300):
            assert client.get(f"{home}?utm_x={n}&fbclid={n}").status_code == 200
    stored = [key for key in caches["local_pages"]._cache if "newsroom:page:" in key]
    assert len(stored) == 1


def test_parameters_the_view_reads_are_keyed(client, settings):
    per_page = settings.NEWSROOM_ARTICLES_PER_PAGE
    for n in range(per_page + 1):
        make_article(days=-1 - n, headline=f"Story {n}")
    home = reverse("articles:home")
    last = f"Story {per_page}".encode()
    assert last not in client.get(home).content
    assert last in client.get(f"{home}?page=2&utm_x=1").content
    assert last in client.get(f"{home}?utm_x=2&page=2").content
    assert last not in client.get(f"{home}?page=1").content
    assert last in client.get(f"{home}?page=1&page=2").content  # the last value, as the view reads it


@pytest.mark.parametrize("seconds_after_the_minute", [0, 13, 59])
def test_s_maxage_ends_on_the_minute_before_a_scheduled_publication(seconds_after_the_minute):
    client = Client()
    home = reverse("articles:home")
    now = START + timedelta(seconds=seconds_after_the_minute)
    publication = START + timedelta(minutes=2, seconds=37)
    with time_machine.travel(now, tick=False) as clock:
        make_article(published_at=START - timedelta(days=1), headline="Already out")
        make_article(published_at=publication, headline="Embargoed scoop")
        response = client.get(home)
        expected = 120 - seconds_after_the_minute  # to 12:02:00, not 12:02:37
        assert f"s-maxage={expected}" in response["Cache-Control"]
        assert f"s-maxage={expected}" in client.get(home)["Cache-Control"]  # a hit says the same
        # This server's own copy still serves until the publication itself, then the story is there.
        clock.move_to(publication - timedelta(seconds=1))
        assert b"Embargoed scoop" not in client.get(home).content
        clock.move_to(publication)
        assert b"Embargoed scoop" in client.get(home).content
