"""
Year, month and day archives (Django's date-based generic views over
published articles, by local publication date), the archive menu, and the
day link on article pages.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def world(settings):
    """
    Published articles on 1 and 6 October 2021 and 14 September 2021 and 2019;
    a draft on 1 October and a scheduled article in 2031: neither may show, and
    their periods (November 2021, 2031) are empty.
    """
    settings.TIME_ZONE = "UTC"
    section = make_section("Africa", slug="africa")
    author = make_author("Amara Diallo", slug="amara-diallo")
    common = {"section": section, "authors": [author]}
    return {
        "seed": make_article(published_at=at(2021, 10, 1, 9), headline="Seed story", slug="seed", **common),
        "later": make_article(published_at=at(2021, 10, 6, 11), headline="Later story", slug="later", **common),
        "september": make_article(published_at=at(2021, 9, 14, 8), headline="September story", slug="sep", **common),
        "old": make_article(published_at=at(2019, 5, 2, 8), headline="Old story", slug="old", **common),
        "draft": make_article(
            published_at=at(2021, 10, 1, 12), status=DRAFT, headline="Draft story", slug="draft", **common
        ),
        "nov_draft": make_article(
            published_at=at(2021, 11, 3, 12), status=DRAFT, headline="November draft", slug="nov-draft", **common
        ),
        "scheduled": make_article(
            published_at=at(2031, 1, 15, 8), headline="Scheduled story", slug="scheduled", **common
        ),
    }


def headlines(response):
    return [article.headline for article in response.context["object_list"]]


def test_archive_urls():
    assert reverse("articles:archive-year", kwargs={"year": 2021}) == "/2021/"
    assert reverse("articles:archive-month", kwargs={"year": 2021, "month": 10}) == "/2021/10/"
    assert reverse("articles:archive-day", kwargs={"year": 2021, "month": 10, "day": 1}) == "/2021/10/01/"


def test_year_page_links_its_months(client, world):
    response = client.get("/2021/")

    assert response.status_code == 200
    assertContains(response, '<h1 class="page-title">2021</h1>', html=True)
    assert [month.strftime("%Y-%m") for month in response.context["date_list"]] == ["2021-09", "2021-10"]
    assertContains(response, 'href="/2021/09/"')
    assertContains(response, 'href="/2021/10/"')
    assertNotContains(response, 'href="/2021/11/"')  # only a draft there
    assertContains(response, 'href="/2019/"')  # previous year with articles
    assertNotContains(response, 'href="/2031/"')  # the scheduled article's year


def test_month_page_lists_its_articles(client, world):
    response = client.get("/2021/10/")

    assert response.status_code == 200
    assertContains(response, '<h1 class="page-title">October 2021</h1>', html=True)
    assert headlines(response) == ["Later story", "Seed story"]
    assertNotContains(response, "Draft story")
    assertContains(response, 'href="/2021/09/"')  # previous month
    assertNotContains(response, 'href="/2021/11/"')


def test_day_page_lists_its_articles(client, world):
    response = client.get("/2021/10/01/")

    assert response.status_code == 200
    assertContains(response, '<h1 class="page-title">1 October 2021</h1>', html=True)
    assert headlines(response) == ["Seed story"]
    assertNotContains(response, "Draft story")
    assertContains(response, 'href="/2021/10/06/"')  # next day with articles
    assertContains(response, 'href="/2021/09/14/"')  # previous day with articles


@pytest.mark.parametrize(
    "path",
    [
        "/2020/",  # nothing that year
        "/2021/11/",  # only a draft
        "/2021/10/02/",  # nothing that day
        "/2031/",  # only a scheduled article
        "/2031/01/",
        "/2031/01/15/",
        "/2021/13/",  # no such month
        "/2021/00/",
        "/2021/02/30/",  # no such day
        "/0000/",
        "/2021/10/01/?page=2",  # past the last page
        "/2021/10/?page=x",
    ],
)
def test_empty_periods_and_bad_dates_are_404(client, world, path):
    response = client.get(path)

    assert response.status_code == 404
    assertContains(response, "Page not found", status_code=404)
    assertNotContains(response, "Scheduled story", status_code=404)


def test_the_scheduled_article_appears_when_its_time_comes(client, world, monkeypatch):
    from django.utils import timezone

    later = at(2031, 1, 16)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert client.get("/2031/01/15/").status_code == 200


def test_archives_use_the_local_date(client, settings):
    """23:30 UTC on 30 September is 1 October in Bamako's neighbour Niamey (UTC+1)."""
    settings.TIME_ZONE = "Africa/Niamey"
    make_article(published_at=at(2021, 9, 30, 23, 30), headline="Late story")

    assert client.get("/2021/10/01/").context["object_list"][0].headline == "Late story"
    assert client.get("/2021/09/30/").status_code == 404


def test_month_pages_are_paginated(client, settings):
    settings.TIME_ZONE = "UTC"
    for n in range(settings.NEWSROOM_ARTICLES_PER_PAGE + 2):
        make_article(published_at=at(2021, 10, 1, 9) + timedelta(hours=n), headline=f"Story {n}")

    first = client.get("/2021/10/")
    second = client.get("/2021/10/?page=2")

    assert len(first.context["object_list"]) == settings.NEWSROOM_ARTICLES_PER_PAGE
    assert headlines(second) == ["Story 1", "Story 0"]
    assertContains(first, 'href="/2021/10/?page=2"')


def test_archive_menu_groups_months_by_year(client, world):
    response = client.get("/archive/")

    assert response.status_code == 200
    assertContains(response, '<h1 class="page-title">Archive</h1>', html=True)
    html = response.content.decode()
    assert html.index('href="/2021/"') < html.index('href="/2021/10/"') < html.index('href="/2021/09/"')
    assert html.index('href="/2021/09/"') < html.index('href="/2019/"') < html.index('href="/2019/05/"')
    assertNotContains(response, 'href="/2031/')
    assertNotContains(response, 'href="/2021/11/"')


def test_archive_menu_without_articles(client):
    response = client.get("/archive/")

    assert response.status_code == 200
    assertContains(response, "No articles yet.")


def test_footer_links_the_archive_and_the_feeds(client, world):
    response = client.get("/")

    assertContains(response, 'href="/archive/"')
    assertContains(response, 'href="/feed/rss/"')
    assertContains(response, 'href="/feed/atom/"')


def test_article_date_links_to_its_day(client, world):
    response = client.get(world["seed"].get_absolute_url())

    assertContains(response, 'href="/2021/10/01/"')


@pytest.mark.parametrize("path", ["/archive/", "/2021/", "/2021/10/", "/2021/10/01/"])
def test_archive_pages_have_one_h1(client, world, path):
    response = client.get(path)

    assert response.content.count(b"<h1") == 1
    assert b'<link rel="canonical" href="http://testserver' + path.encode() + b'">' in response.content


# Query budgets (anonymous reader), each including the page header (the section navigation and the
# breaking-news banner, one query: articles/header.py):
# archive: its months; year: its months, previous and next year;
# month: any articles, its days, previous and next month, the page, bylines;
# day: any articles, previous and next day, previous and next month, the page, bylines.
# (With lead images on the page, the renditions add one, as on every list.)
ARCHIVE_QUERIES = {"/archive/": 2, "/2021/": 4, "/2021/10/": 7, "/2021/10/01/": 8}


@pytest.mark.parametrize("count", [2, 25])
@pytest.mark.parametrize("path", list(ARCHIVE_QUERIES))
def test_archive_query_counts_are_constant(client, django_assert_num_queries, settings, path, count):
    settings.TIME_ZONE = "UTC"
    section = make_section()
    for n in range(count):
        make_article(
            published_at=at(2021, 10, 1, 1) + timedelta(minutes=n),
            section=section,
            authors=[make_author(), make_author()],
            tags=[f"Topic {n}"],
        )
    make_article(published_at=at(2021, 9, 1, 1))
    make_article(published_at=at(2022, 11, 2, 1))

    with django_assert_num_queries(ARCHIVE_QUERIES[path]):
        response = client.get(path)

    assert response.status_code == 200
    if path.count("/") > 3:  # month and day pages list articles
        assert len(response.context["object_list"]) == min(count, settings.NEWSROOM_ARTICLES_PER_PAGE)


def test_per_page_setting_is_the_same_as_lists():
    from articles.views import ArticleMonthArchiveView

    assert ArticleMonthArchiveView.paginate_by == settings.NEWSROOM_ARTICLES_PER_PAGE
