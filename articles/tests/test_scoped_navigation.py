"""
Previous/next within a tag or section: ?in=tag:<slug> or ?in=section:<slug> on
an article URL walks that tag or section in (published_at, id) order, every
published article exactly once; links from tag and section pages add it and
previous/next links keep it; anything else falls back to the whole site.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, Tag

from .factories import make_article, make_author, make_section
from .test_views import canonical_href

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT


@pytest.fixture
def world():
    """
    Mali-tagged articles in the Africa section, interleaved with articles of
    another tag and section (so site-wide neighbours differ), a draft and a
    scheduled Mali article, and two Mali articles published in the same second.
    """
    africa = make_section("Africa", slug="africa")
    europe = make_section("Europe", slug="europe")
    author = make_author("Amara Diallo", slug="amara-diallo")
    base = timezone.now().replace(microsecond=0) - timedelta(days=10)
    mali = {"section": africa, "tags": ["Mali"], "authors": [author]}
    other = {"section": europe, "tags": ["Energy"], "authors": [author]}
    articles = {
        "m1": make_article(published_at=base, headline="Mali one", **mali),
        "e1": make_article(published_at=base + timedelta(hours=1), headline="Energy one", **other),
        "m2": make_article(published_at=base + timedelta(hours=2), headline="Mali two", **mali),
        "m3": make_article(published_at=base + timedelta(hours=2), headline="Mali three", **mali),  # same second
        "draft": make_article(published_at=base + timedelta(hours=3), status=DRAFT, headline="Mali draft", **mali),
        "e2": make_article(published_at=base + timedelta(hours=4), headline="Energy two", **other),
        "m4": make_article(published_at=base + timedelta(hours=5), headline="Mali four", **mali),
        "scheduled": make_article(days=2, headline="Mali scheduled", **mali),
    }
    return articles


def nav(response):
    """(label, href) of the previous and next links, None when absent."""
    html = response.content.decode()
    found = {}
    for rel, cls in (("prev", "prev"), ("next", "next")):
        match = re.search(
            rf'<div class="{cls}">\s*<span class="label">([^<]*)</span>\s*<a rel="{rel}" href="([^"]*)">', html
        )
        found[rel] = match.groups() if match else None
    return found


def walk(client, start_url, rel):
    """Follow rel=prev or rel=next links from start_url to the end; the headlines seen."""
    seen, url = [], start_url
    for _ in range(50):
        response = client.get(url)
        assert response.status_code == 200
        seen.append(response.context["article"].headline)
        link = nav(response)[rel]
        if link is None:
            return seen
        url = link[1]
    raise AssertionError("the walk does not end")


def test_tag_page_teasers_carry_the_scope(client, world):
    response = client.get("/tag/mali/")

    assertContains(response, f'href="{world["m4"].get_absolute_url()}?in=tag:mali"')
    assertContains(response, f'href="{world["m1"].get_absolute_url()}?in=tag:mali"')


def test_section_page_teasers_carry_the_scope(client, world):
    response = client.get("/section/africa/")

    assertContains(response, f'href="{world["m4"].get_absolute_url()}?in=section:africa"')


@pytest.mark.parametrize("path", ["/", "/author/amara-diallo/"])
def test_other_lists_link_plain_article_urls(client, world, path):
    response = client.get(path)

    assertContains(response, f'href="{world["m4"].get_absolute_url()}"')
    assertNotContains(response, "?in=")


@pytest.mark.parametrize("scope", ["tag:mali", "section:africa"])
def test_walks_the_scope_forwards_and_backwards_exactly_once(client, world, scope):
    forwards = walk(client, f"{world['m1'].get_absolute_url()}?in={scope}", "next")
    backwards = walk(client, f"{world['m4'].get_absolute_url()}?in={scope}", "prev")

    assert forwards == ["Mali one", "Mali two", "Mali three", "Mali four"]
    assert backwards == list(reversed(forwards))


def test_site_wide_walk_is_unchanged(client, world):
    forwards = walk(client, world["m1"].get_absolute_url(), "next")

    assert forwards == ["Mali one", "Energy one", "Mali two", "Mali three", "Energy two", "Mali four"]


def test_labels_and_links_keep_the_scope(client, world):
    response = client.get(f"{world['m2'].get_absolute_url()}?in=tag:mali")
    links = nav(response)

    assert links["prev"] == ("Previous in Mali", f"{world['m1'].get_absolute_url()}?in=tag:mali")
    assert links["next"] == ("Next in Mali", f"{world['m3'].get_absolute_url()}?in=tag:mali")
    assertContains(response, 'aria-label="Previous and next articles in Mali"')


def test_section_labels(client, world):
    links = nav(client.get(f"{world['m2'].get_absolute_url()}?in=section:africa"))

    assert links["prev"][0] == "Previous in Africa"
    assert links["next"][0] == "Next in Africa"


def test_canonical_stays_the_plain_url(client, world):
    response = client.get(f"{world['m2'].get_absolute_url()}?in=tag:mali")

    assert canonical_href(response) == f"http://testserver{world['m2'].get_absolute_url()}"


@pytest.mark.parametrize(
    "scope",
    [
        "tag:nope",  # no such tag
        "tag:energy",  # a tag this article does not carry
        "section:europe",  # another section
        "section:mali",  # a tag's slug as a section
        "author:amara-diallo",  # not a navigation scope
        "tag",
        "tag:",
        ":mali",
        "",
        "tag:mali:extra",
        "tag:MALI",
        "tag:%00",
        "x" * 5000,
    ],
)
def test_unknown_or_malformed_scope_falls_back_to_site_wide(client, world, scope):
    response = client.get(world["m2"].get_absolute_url(), {"in": scope})
    links = nav(response)

    assert response.status_code == 200
    assert links["prev"] == ("Previous article", world["e1"].get_absolute_url())
    assert links["next"] == ("Next article", world["m3"].get_absolute_url())
    assertNotContains(response, "?in=")


def test_scope_never_reveals_unpublished_articles(client, world):
    last = client.get(f"{world['m4'].get_absolute_url()}?in=tag:mali")

    assert nav(last)["next"] is None  # not the scheduled one
    for hidden in ("Mali draft", "Mali scheduled"):
        assertNotContains(last, hidden)
    assert client.get(f"{world['draft'].get_absolute_url()}?in=tag:mali").status_code == 404


def test_scheduled_article_joins_the_walk_when_its_time_comes(client, world, monkeypatch):
    later = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert walk(client, f"{world['m4'].get_absolute_url()}?in=tag:mali", "next") == ["Mali four", "Mali scheduled"]


def test_wrong_date_redirect_keeps_the_scope(client, world):
    article = world["m2"]
    response = client.get(f"/1999/01/01/{article.slug}/?in=tag:mali&utm_source=x")

    assert response.status_code == 301
    assert response["Location"] == f"{article.get_absolute_url()}?in=tag:mali"


def test_model_scope_argument(world):
    mali = Tag.objects.get(slug="mali")

    assert world["m3"].get_previous_published(mali) == world["m2"]
    assert world["m3"].get_next_published(mali) == world["m4"]
    assert world["m3"].get_next_published() == world["e2"]


# Article; byline, tags and corrections; previous/next and related articles (one
# query); the page header (section navigation and breaking-news banner). The scope adds none.
ARTICLE_PAGE_QUERIES = 4


@pytest.mark.parametrize("scope", ["", "?in=tag:mali", "?in=section:africa", "?in=tag:nope"])
def test_query_budget_is_unchanged(client, django_assert_num_queries, world, scope):
    """The scope is read from the article's own (already loaded) section and tags: no extra query."""
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        response = client.get(world["m2"].get_absolute_url() + scope)

    assert response.status_code == 200
