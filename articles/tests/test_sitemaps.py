"""
Sitemaps and robots.txt: an index of the home page, article, section, tag and
author sitemaps, a Google News sitemap of the last 48 hours, and nothing
unpublished anywhere (not even the tag or author of a draft). Every answer is
checked against the sitemaps.org schemas and Google's News extension.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
import time_machine
from django.utils import timezone
from lxml import etree

from articles.models import Article

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
DRAFT = Article.Status.DRAFT


@pytest.fixture
def world():
    """
    Published articles (one an hour old), plus a draft and a scheduled article
    that alone carry a section, a tag and an author nothing published has.
    """
    africa = make_section("Africa", slug="africa")
    amara = make_author("Amara Diallo", slug="amara-diallo")
    hidden_section = make_section("Hidden", slug="hidden-section")
    hidden_author = make_author("Hidden Author", slug="hidden-author")
    common = {"section": africa, "authors": [amara], "tags": ["Mali"]}
    old = make_article(days=-10, headline="Old & news", slug="old-news", **common)
    fresh = make_article(
        published_at=timezone.now() - timedelta(hours=1), headline="Fresh <news>", slug="fresh-news", **common
    )
    hidden = {"section": hidden_section, "authors": [hidden_author], "tags": ["Mali", "Embargo"]}
    draft = make_article(days=-1, status=DRAFT, headline="Draft story", slug="draft-story", **hidden)
    scheduled = make_article(
        published_at=timezone.now() + timedelta(hours=2), headline="Scheduled story", slug="scheduled-story", **hidden
    )
    return {"old": old, "fresh": fresh, "draft": draft, "scheduled": scheduled}


SCHEMAS = etree.XMLSchema(etree.parse(Path(__file__).parent / "data" / "schemas" / "sitemaps.xsd"))


def xml(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert SCHEMAS.validate(etree.fromstring(response.content)), SCHEMAS.error_log
    return response, ElementTree.fromstring(response.content)


def locs(tree):
    return [loc.text for loc in tree.findall(".//s:loc", NS)]


def test_index_lists_the_five_sitemaps(client, world):
    _, tree = xml(client, "/sitemap.xml")

    assert tree.tag == f"{{{NS['s']}}}sitemapindex"
    assert locs(tree) == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-articles.xml",
        "http://testserver/sitemap-sections.xml",
        "http://testserver/sitemap-tags.xml",
        "http://testserver/sitemap-authors.xml",
    ]


def test_the_home_page_is_in_a_sitemap_modified_when_the_newest_article_appeared(client, world):
    _, tree = xml(client, "/sitemap-pages.xml")

    assert locs(tree) == ["http://testserver/"]
    # The scheduled article is newer, but not on the home page yet.
    assert tree.find(".//s:lastmod", NS).text == timezone.localdate(world["fresh"].published_at).isoformat()


def test_article_sitemap_lists_published_articles_with_lastmod(client, world):
    Article.objects.filter(pk=world["old"].pk).update(updated_at=datetime(2030, 1, 2, tzinfo=UTC))
    response, tree = xml(client, "/sitemap-articles.xml")

    assert locs(tree) == [
        f"http://testserver{world['fresh'].get_absolute_url()}",
        f"http://testserver{world['old'].get_absolute_url()}",
    ]
    lastmods = [element.text for element in tree.findall(".//s:lastmod", NS)]
    assert lastmods == [timezone.localdate(world["fresh"].updated_at).isoformat(), "2030-01-02"]
    assert b"draft-story" not in response.content
    assert b"scheduled-story" not in response.content


@pytest.mark.parametrize(
    ("path", "expected", "hidden"),
    [
        ("/sitemap-sections.xml", ["/section/africa/"], b"hidden-section"),
        ("/sitemap-tags.xml", ["/tag/mali/"], b"embargo"),
        ("/sitemap-authors.xml", ["/author/amara-diallo/"], b"hidden-author"),
    ],
)
def test_list_sitemaps_list_only_what_has_published_articles(client, world, path, expected, hidden):
    response, tree = xml(client, path)

    assert locs(tree) == [f"http://testserver{url}" for url in expected]
    # Last modified when its newest *published* article appeared (the draft and the scheduled one are newer).
    assert tree.find(".//s:lastmod", NS).text == timezone.localdate(world["fresh"].published_at).isoformat()
    assert hidden not in response.content


def test_news_sitemap_has_the_last_48_hours_in_the_news_namespace(client, world):
    response, tree = xml(client, "/news-sitemap.xml")

    urls = tree.findall("s:url", NS)
    assert [url.find("s:loc", NS).text for url in urls] == [f"http://testserver{world['fresh'].get_absolute_url()}"]
    news = urls[0].find("news:news", NS)
    assert news.find("news:publication/news:name", NS).text == "The Newsroom"
    assert news.find("news:publication/news:language", NS).text == "en"
    assert news.find("news:title", NS).text == "Fresh <news>"
    published = datetime.fromisoformat(news.find("news:publication_date", NS).text)
    assert published == world["fresh"].published_at.replace(microsecond=0)
    lastmod = datetime.fromisoformat(urls[0].find("s:lastmod", NS).text)
    assert lastmod == world["fresh"].updated_at.replace(microsecond=0)
    for hidden in (b"Old &amp; news", b"Draft story", b"Scheduled story"):
        assert hidden not in response.content


def test_news_sitemap_takes_the_language_and_name_from_settings(client, world, settings):
    settings.NEWSROOM_NAME = "Le Journal"
    settings.NEWSROOM_LANGUAGE = "fr"
    _, tree = xml(client, "/news-sitemap.xml")

    assert tree.find(".//news:name", NS).text == "Le Journal"
    assert tree.find(".//news:language", NS).text == "fr"


def test_without_recent_news_the_news_sitemap_lists_the_newest_article_without_news_metadata(client):
    """Never an empty <urlset> (the schema wants a <url>); Google allows older URLs without <news:news>."""
    older = make_article(days=-5, slug="older")
    newest = make_article(days=-3, slug="newest")
    response, tree = xml(client, "/news-sitemap.xml")

    assert locs(tree) == [f"http://testserver{newest.get_absolute_url()}"]
    assert tree.find(".//news:news", NS) is None
    assert older.slug.encode() not in response.content


def test_news_sitemap_of_a_site_with_no_article_lists_the_home_page(client):
    make_article(days=-1, status=DRAFT)
    _, tree = xml(client, "/news-sitemap.xml")

    assert locs(tree) == ["http://testserver/"]
    assert tree.find(".//news:news", NS) is None


def test_cached_news_sitemap_expires_when_its_oldest_entry_leaves_the_window(client, settings):
    """No write happens when an article turns 48 hours old: the cached copy must not outlive that moment."""
    settings.NEWSROOM_CACHE_PAGES = True
    settings.NEWSROOM_CACHE_SECONDS = 24 * 3600
    now = timezone.now()
    older = make_article(published_at=now - timedelta(hours=47), slug="older")
    newer = make_article(published_at=now - timedelta(hours=30), slug="newer")
    with time_machine.travel(now, tick=False):
        response, tree = xml(client, "/news-sitemap.xml")
        assert locs(tree) == [f"http://testserver{a.get_absolute_url()}" for a in (newer, older)]
        # The older one leaves in an hour; shared caches are told the start of that minute.
        shared = int(response["Cache-Control"].split("s-maxage=")[1].split(",")[0])
        assert 3600 - 60 < shared <= 3600
    with time_machine.travel(now + timedelta(minutes=59), tick=False):
        assert b"older" in client.get("/news-sitemap.xml").content  # still in the window (and cached)
    with time_machine.travel(now + timedelta(hours=1, seconds=1), tick=False):
        _, tree = xml(client, "/news-sitemap.xml")
        assert locs(tree) == [f"http://testserver{newer.get_absolute_url()}"]


def test_scheduled_article_enters_the_sitemaps_when_its_time_comes(client, world, monkeypatch):
    later = timezone.now() + timedelta(hours=3)
    monkeypatch.setattr(timezone, "now", lambda: later)

    _, news = xml(client, "/news-sitemap.xml")
    _, articles = xml(client, "/sitemap-articles.xml")

    assert f"http://testserver{world['scheduled'].get_absolute_url()}" in locs(news)
    assert f"http://testserver{world['scheduled'].get_absolute_url()}" in locs(articles)
    assert not any("draft-story" in loc for loc in locs(articles))


def test_robots_txt_points_at_both_sitemaps_and_keeps_out_of_admin_and_previews(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /preview/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Sitemap: http://testserver/news-sitemap.xml" in lines


def test_sitemaps_use_the_requested_host_and_scheme(client, world, settings):
    settings.ALLOWED_HOSTS = ["news.example.com"]
    response = client.get("/sitemap.xml", HTTP_HOST="news.example.com", secure=True)

    assert b"<loc>https://news.example.com/sitemap-articles.xml</loc>" in response.content


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/sitemap.xml", 9),  # per sitemap: its page count and its latest lastmod (the home page's: no count)
        ("/sitemap-articles.xml", 2),  # count, items
        ("/sitemap-sections.xml", 2),
        ("/sitemap-tags.xml", 2),
        ("/sitemap-authors.xml", 2),
        ("/sitemap-pages.xml", 1),  # the newest publication
        ("/news-sitemap.xml", 1),  # the window's articles (a list: no count)
        ("/robots.txt", 0),
    ],
)
@pytest.mark.parametrize("count", [2, 30])
def test_sitemap_query_counts_are_constant(client, django_assert_num_queries, path, queries, count):
    section = make_section()
    for n in range(count):
        make_article(
            published_at=timezone.now() - timedelta(hours=n + 1),
            section=section,
            authors=[make_author()],
            tags=[f"Topic {n}"],
        )

    with django_assert_num_queries(queries):
        response = client.get(path)

    assert response.status_code == 200
