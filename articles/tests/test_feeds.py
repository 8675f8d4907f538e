"""
RSS and Atom feeds: every feed parses cleanly with feedparser, carries the
fields a reader needs, lists published articles only, and costs a constant
number of queries.
"""

import html
import re
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Image, Rendition, Tag

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT
BODY = (
    '<p>Helicopters landed in <a href="https://example.org/bamako">Bamako</a>.</p>'
    "<h2>Reaction</h2><p>Paris &amp; Bamako.</p><script>alert('x')</script>"
)


@pytest.fixture
def world():
    """
    A section, a tag and two authors shared by four articles: an older and a
    newer published one, a draft and a scheduled one, so every feed could leak.
    """
    section = make_section("Africa", slug="africa", description="News from the continent.")
    amara = make_author("Amara Diallo", slug="amara-diallo")
    staff = make_author("Staff Reporter", slug="staff-reporter")
    common = {"section": section, "authors": [amara, staff], "tags": ["Mali", "Russia"]}
    older = make_article(days=-5, headline="Older story", slug="older", standfirst="Older standfirst.", **common)
    newer = make_article(
        days=-1, headline="Mali & Russia story", slug="newer", standfirst="The standfirst.", body=BODY, **common
    )
    draft = make_article(days=-2, status=DRAFT, headline="Embargoed draft", slug="draft", **common)
    scheduled = make_article(days=2, headline="Future scheduled", slug="scheduled", **common)
    return {
        "section": section,
        "author": amara,
        "tag": Tag.objects.get(name="Mali"),
        "older": older,
        "newer": newer,
        "draft": draft,
        "scheduled": scheduled,
    }


def feed_urls(world):
    return {
        "latest-rss": reverse("articles:latest-rss"),
        "latest-atom": reverse("articles:latest-atom"),
        "section-rss": reverse("articles:section-rss", kwargs={"slug": "africa"}),
        "section-atom": reverse("articles:section-atom", kwargs={"slug": "africa"}),
        "tag-rss": reverse("articles:tag-rss", kwargs={"slug": world["tag"].slug}),
        "tag-atom": reverse("articles:tag-atom", kwargs={"slug": world["tag"].slug}),
        "author-rss": reverse("articles:author-rss", kwargs={"slug": "amara-diallo"}),
        "author-atom": reverse("articles:author-atom", kwargs={"slug": "amara-diallo"}),
    }


FEEDS = [f"{scope}-{kind}" for scope in ("latest", "section", "tag", "author") for kind in ("rss", "atom")]


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return response, parsed


def test_feed_urls():
    assert reverse("articles:latest-rss") == "/feed/rss/"
    assert reverse("articles:latest-atom") == "/feed/atom/"
    assert reverse("articles:section-rss", kwargs={"slug": "africa"}) == "/section/africa/feed/rss/"
    assert reverse("articles:tag-atom", kwargs={"slug": "mali"}) == "/tag/mali/feed/atom/"
    assert reverse("articles:author-rss", kwargs={"slug": "amara-diallo"}) == "/author/amara-diallo/feed/rss/"


@pytest.mark.parametrize("feed", FEEDS)
def test_every_feed_is_valid_and_lists_published_articles_only(client, world, feed):
    response, parsed = parse(client, feed_urls(world)[feed])

    assert parsed.version == ("rss20" if feed.endswith("rss") else "atom10")
    assert response["Content-Type"].startswith(
        "application/rss+xml" if feed.endswith("rss") else "application/atom+xml"
    )
    # RSS titles go out HTML-escaped (readers take them as HTML), so feedparser reports HTML for "&amp;".
    assert [shown_title(entry) for entry in parsed.entries] == ["Mali & Russia story", "Older story"]
    for hidden in ("draft", "scheduled"):
        assert world[hidden].headline.encode() not in response.content
        assert world[hidden].slug.encode() not in response.content


def shown_title(entry):
    return html.unescape(entry.title) if entry.title_detail.type == "text/html" else entry.title


@pytest.mark.parametrize("feed", FEEDS)
def test_feed_items_carry_every_field(client, world, feed):
    response, parsed = parse(client, feed_urls(world)[feed])
    entry = parsed.entries[0]
    newer = world["newer"]

    assert entry.link == f"http://testserver{newer.get_absolute_url()}"
    assert entry.summary == "The standfirst."
    content = entry.content[0]
    assert content.type == "text/html"
    assert content.value == Article.objects.get(pk=newer.pk).body  # the whole sanitized body
    assert "<h2>Reaction</h2>" in content.value
    assert b"alert(" not in response.content
    assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == newer.published_at.replace(microsecond=0)
    assert [tag.term for tag in entry.tags] == ["Mali", "Russia"]
    assert [author.name for author in entry.authors] == ["Amara Diallo", "Staff Reporter"]
    assert parsed.feed.language == "en"
    assert "enclosures" not in entry or entry.enclosures == []


def test_atom_entries_have_updated_dates_and_author_links(client, world):
    newer = world["newer"]
    edited = newer.published_at + timedelta(hours=3)
    Article.objects.filter(pk=newer.pk).update(created_at=newer.published_at, updated_at=edited)
    _, parsed = parse(client, reverse("articles:latest-atom"))
    entry = parsed.entries[0]

    assert datetime(*entry.updated_parsed[:6], tzinfo=UTC) == edited.replace(microsecond=0)
    assert datetime(*parsed.entries[1].updated_parsed[:6], tzinfo=UTC) == world["older"].published_at.replace(
        microsecond=0
    )  # never edited: updated is the publication time
    assert entry.authors[0].href == "http://testserver/author/amara-diallo/"
    assert parsed.feed.author == "The Newsroom"  # the feed-level author, for entries without a byline


def test_feed_titles_and_links(client, world):
    _, latest = parse(client, reverse("articles:latest-rss"))
    _, section = parse(client, reverse("articles:section-atom", kwargs={"slug": "africa"}))
    _, author = parse(client, reverse("articles:author-rss", kwargs={"slug": "amara-diallo"}))

    assert latest.feed.title == "The Newsroom"
    assert latest.feed.link == "http://testserver/"
    assert section.feed.title == "Africa · The Newsroom"
    assert section.feed.subtitle == "News from the continent."
    assert section.feed.link == "http://testserver/section/africa/"
    assert author.feed.title == "Amara Diallo · The Newsroom"


def test_rss_declares_the_content_and_media_namespaces(client, world):
    response = client.get(reverse("articles:latest-rss"))

    assert b'xmlns:content="http://purl.org/rss/1.0/modules/content/"' in response.content
    assert b"<content:encoded>" in response.content
    assert len(re.findall(rb"<dc:creator>", response.content)) == 4  # two authors on each of two items


def test_unknown_scope_is_404(client, world):
    assert client.get("/section/nowhere/feed/rss/").status_code == 404
    assert client.get("/tag/nowhere/feed/atom/").status_code == 404
    assert client.get("/author/nobody/feed/rss/").status_code == 404


def test_an_article_without_byline_inherits_the_feed_author_in_atom(client):
    make_article(headline="Unsigned")
    response, parsed = parse(client, reverse("articles:latest-atom"))

    assert parsed.feed.author == "The Newsroom"
    assert "authors" not in parsed.entries[0]
    assert b"<feed" in response.content and response.content.count(b"<author>") == 1


def make_lead_image(article, *, with_renditions=True, sizes_known=True):
    """A lead image with its JPEG ladder and social card; its files are `width * 100` bytes if `sizes_known`."""
    n = article.pk
    image = Image.objects.create(
        file=f"images/{n:02d}/lead-{n}.jpg", alt_text="Soldiers unload a helicopter", width=2400, height=1600,
        sha256=f"{n:064d}", file_size=240_000 if sizes_known else None,
    )  # fmt: skip
    if with_renditions:
        for width in (640, 1280):
            Rendition.objects.create(
                image=image, spec=f"w{width}.jpeg", kind="width", format="jpeg", width=width,
                height=width * 2 // 3, file=f"renditions/{n}-{width}.jpg", signature="s",
                file_size=width * 100 if sizes_known else None,
            )  # fmt: skip
        Rendition.objects.create(
            image=image, spec="social.jpeg", kind="social", format="jpeg", width=1200, height=630,
            file=f"renditions/{n}-social.jpg", signature="s",
        )  # fmt: skip
    article.lead_image = image
    article.save(update_fields=["lead_image"])
    return image


@pytest.mark.parametrize("feed", ["latest-rss", "latest-atom"])
def test_lead_image_is_an_enclosure_and_media_content(client, world, feed):
    make_lead_image(world["newer"])
    response, parsed = parse(client, feed_urls(world)[feed])
    entry = parsed.entries[0]

    assert entry.enclosures[0].href == f"http://testserver/media/renditions/{world['newer'].pk}-1280.jpg"
    assert entry.enclosures[0].type == "image/jpeg"
    assert entry.media_content[0]["url"] == entry.enclosures[0].href
    assert entry.media_content[0]["width"] == "1280"
    assert entry.media_content[0]["height"] == "853"
    assert "enclosures" not in parsed.entries[1] or parsed.entries[1].enclosures == []


@pytest.mark.parametrize("feed", ["latest-rss", "latest-atom"])
def test_enclosure_and_media_content_carry_the_recorded_file_size(client, world, feed):
    make_lead_image(world["newer"])
    response, parsed = parse(client, feed_urls(world)[feed])
    entry = parsed.entries[0]

    assert entry.enclosures[0].length == "128000"  # the 1280-pixel rendition's recorded size
    assert entry.media_content[0]["filesize"] == "128000"
    assert b'length="0"' not in response.content


def test_a_file_size_not_yet_recorded_is_0_unknown_as_rss_asks(client, world):
    make_lead_image(world["newer"], sizes_known=False)
    response, parsed = parse(client, reverse("articles:latest-rss"))

    assert parsed.entries[0].enclosures[0].length == "0"
    assert "filesize" not in parsed.entries[0].media_content[0]


def test_feed_content_headings_start_at_h2(client, world):
    world["newer"].body = "<h3>What happened</h3><p>Text.</p><h4>Details</h4><p>More.</p>"
    world["newer"].save()
    _, parsed = parse(client, reverse("articles:latest-atom"))

    content = parsed.entries[0].content[0].value
    assert "<h2>What happened</h2>" in content and "<h3>Details</h3>" in content


def test_lead_image_without_renditions_is_left_out_never_the_original(client, world):
    """Until the worker has made a rendition, feed readers get no image rather than a multi-megabyte original."""
    make_lead_image(world["newer"], with_renditions=False)
    _, parsed = parse(client, reverse("articles:latest-rss"))

    entry = parsed.entries[0]
    assert html.unescape(entry.title) == world["newer"].headline  # RSS titles are escaped text
    assert not entry.get("media_content") and not entry.get("enclosures")


# Query budget: the scope lookup (scoped feeds), articles (with section and lead
# image), bylines, the lead images' renditions, tags and corrections.
LATEST_FEED_QUERIES = 5
SCOPED_FEED_QUERIES = 6


@pytest.mark.parametrize("count", [2, 35])
@pytest.mark.parametrize("feed", FEEDS)
def test_feed_query_count_is_constant(client, django_assert_num_queries, feed, count):
    section = make_section("Africa", slug="africa")
    author = make_author("Amara Diallo", slug="amara-diallo")
    for n in range(count):
        article = make_article(
            days=-n - 1, section=section, authors=[author, make_author()], tags=["Mali", f"Topic {n}"]
        )
        make_lead_image(article)
    urls = feed_urls({"tag": Tag.objects.get(name="Mali")})

    with django_assert_num_queries(LATEST_FEED_QUERIES if feed.startswith("latest") else SCOPED_FEED_QUERIES):
        _, parsed = parse(client, urls[feed])

    assert len(parsed.entries) == min(count, 30)


def test_scheduled_article_enters_the_feed_when_its_time_comes(client, world, monkeypatch):
    later = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)

    _, parsed = parse(client, reverse("articles:latest-rss"))

    assert parsed.entries[0].title == "Future scheduled"
    assert "Embargoed draft" not in [entry.title for entry in parsed.entries]


@pytest.mark.parametrize(
    ("path", "rss", "atom"),
    [
        ("/", "/feed/rss/", "/feed/atom/"),
        ("/section/africa/", "/section/africa/feed/rss/", "/section/africa/feed/atom/"),
        ("/tag/mali/", "/tag/mali/feed/rss/", "/tag/mali/feed/atom/"),
        ("/author/amara-diallo/", "/author/amara-diallo/feed/rss/", "/author/amara-diallo/feed/atom/"),
    ],
)
def test_pages_link_their_feeds(client, world, path, rss, atom):
    html = client.get(path).content.decode()

    alternates = re.findall(r'<link rel="alternate" type="([^"]+)" title="[^"]+" href="([^"]+)">', html)
    assert alternates == [("application/rss+xml", rss), ("application/atom+xml", atom)]
    if path != "/":
        assert f'<a href="{rss}" type="application/rss+xml">RSS feed</a>' in html  # visible too


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_an_empty_feed_is_dated_the_epoch_not_now(client, kind):
    """Django would date it "now": a page that changes every second can never match its cached copy."""
    make_article(status=DRAFT)  # a section's, tag's or author's feed is a 404 until it has a published article
    _, parsed = parse(client, reverse(f"articles:latest-{kind}"))
    assert parsed.feed.updated_parsed[:6] == (1970, 1, 1, 0, 0, 0)
