"""
The demo fixture and loaddata/dumpdata: it loads, it is idempotent, bad
fixtures change nothing, and a natural-key dump round-trips to the same site.
"""

import json
import re
from datetime import UTC, datetime

import feedparser
import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, IntegrityError
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Author, Authorship, BreakingNews, Related, Section, Tag

pytestmark = pytest.mark.django_db

SEED_SLUG = "mali-receives-helicopters-and-weapons-from-russia"
DRAFT_SLUG = "explainer-what-the-barkhane-drawdown-means-for-the-sahel"
SCHEDULED_SLUG = "sahel-decade-in-review"


def load_demo():
    call_command("loaddata", "demo", verbosity=0)


def tables():
    """The articles app's own tables (not unmanaged views onto derived data such as the search index)."""
    return [model for model in apps.get_app_config("articles").get_models() if model._meta.managed]


def table_counts():
    return {model._meta.label: model._default_manager.count() for model in tables()}


def snapshot():
    """Every row of every articles table, as plain values, in a stable order."""
    return {model._meta.label: list(model._default_manager.order_by("pk").values()) for model in tables()}


def tag_sets():
    return {article.slug: {tag.slug for tag in article.tags.all()} for article in Article.objects.all()}


def link_rows():
    """Related links and bylines, by slug (ids change when data is reloaded)."""
    related = sorted(Related.objects.values_list("article__slug", "related_article__slug", "position"))
    bylines = sorted(Authorship.objects.values_list("article__slug", "author__slug", "position"))
    return related, bylines


@pytest.fixture
def utc(settings):
    settings.TIME_ZONE = "UTC"


# The demo fixture.


def test_demo_fixture_loads_a_usable_newsroom():
    load_demo()

    published = Article.objects.published()
    assert published.count() >= 12
    assert Section.objects.count() >= 3
    assert Article.objects.get(slug=DRAFT_SLUG).status == Article.Status.DRAFT
    scheduled = Article.objects.get(slug=SCHEDULED_SLUG)
    assert scheduled.is_scheduled
    assert scheduled.published_at > timezone.now()
    assert not published.filter(slug__in=[DRAFT_SLUG, SCHEDULED_SLUG]).exists()
    sections = set(Section.objects.values_list("slug", flat=True))
    assert {"africa", "middle-east", "economy", "europe", "science"} <= sections
    # Every published article has a section and a byline or credit, as a real page would.
    for article in published:
        assert article.section_id is not None, article.slug
        assert article.authorships.exists() or article.credit, article.slug


def test_seed_article_is_the_reference_page():
    load_demo()

    article = Article.objects.get(slug=SEED_SLUG)

    assert article.headline == "Mali receives helicopters and weapons from Russia"
    assert article.standfirst == (
        "The delivery of military equipment from Moscow comes amid tense relations between Bamako and key ally Paris."
    )
    assert article.credit == "Al Jazeera and news agencies"
    assert article.published_at == datetime(2021, 10, 1, 9, 0, tzinfo=UTC)
    assert article.is_live
    assert article.section.slug == "africa"
    assert {"mali", "russia", "wagner-group"} <= {tag.slug for tag in article.tags.all()}
    assert article.tags.count() >= 3
    assert [author.slug for author in article.byline] == ["al-jazeera-staff", "amara-diallo"]


def test_seed_article_body_keeps_every_paragraph():
    """The body survives loaddata's sanitizing intact: 13 paragraphs, quotes and dashes included."""
    load_demo()

    body = Article.objects.get(slug=SEED_SLUG).body

    assert len(re.findall(r"<p>", body)) == 13
    assert body.count("</p>") == 13
    for sentence in (
        "<p>Interim Defence Minister Sadio Camara said late on Thursday Mali had acquired the aircraft in a contract "
        "agreed in December 2020 to support its armed forces in their battle – alongside French, European and "
        "United Nations troops – with fighters linked to ISIL (ISIS) and al-Qaeda.</p>",
        "<p>He added that the weapons and ammunition were gifts from Russia.</p>",
        "Diplomatic and security sources have told news agencies Mali’s military-dominated government is close to "
        "recruiting the controversial Wagner Group.",
        "<p>“What the Malian prime minister said is unacceptable. It’s a shame. And that dishonours what isn’t even "
        "a government,” he told Radio France International.</p>",
    ):
        assert sentence in body
    assert body.startswith("<p>Interim Defence Minister")
    assert body.endswith("he told Radio France International.</p>")


def test_seed_article_page_links_to_its_neighbours(client, utc):
    load_demo()

    response = client.get(f"/2021/10/01/{SEED_SLUG}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        r'<a rel="prev" href="/2021/10/01/forced-repossession-of-leased-assets-to-be-suspended-until-next-year/">'
        r"Forced repossession of leased assets to be suspended until next year</a>",
        html,
    )
    assert re.search(
        r'<a rel="next" href="/2021/10/01/dubai-expo-2020-attempt-to-shield-uae-rights-abuses-says-hrw/">'
        r"Dubai Expo 2020 attempt to shield UAE rights abuses, says HRW</a>",
        html,
    )


def test_no_two_demo_feed_entries_share_an_updated_time(client):
    """Feed validators flag equal atom:updated values: readers cannot tell which entry changed."""
    load_demo()

    parsed = feedparser.parse(client.get(reverse("articles:latest-atom")).content)

    updated = [entry.updated for entry in parsed.entries]
    assert len(updated) == Article.objects.published().count()
    assert len(set(updated)) == len(updated)


def test_demo_draft_and_scheduled_articles_stay_hidden(client):
    load_demo()

    for slug in (DRAFT_SLUG, SCHEDULED_SLUG):
        article = Article.objects.get(slug=slug)
        assert client.get(article.get_absolute_url()).status_code == 404
        assert article.headline.encode() not in client.get("/").content


def test_loading_demo_twice_changes_nothing():
    """Natural keys make loaddata update rows in place; it does not call save(), so updated_at is kept too."""
    load_demo()
    counts, rows = table_counts(), snapshot()

    load_demo()

    assert table_counts() == counts
    assert snapshot() == rows
    assert rows["articles.Article"][0]["updated_at"] is not None


# Bad fixtures fail whole.

VALID_NEW_OBJECTS = [
    {"model": "articles.section", "fields": {"name": "Culture", "slug": "culture", "description": ""}},
    {"model": "articles.author", "fields": {"name": "New Writer", "slug": "new-writer", "bio": ""}},
    {"model": "articles.tag", "fields": {"name": "Brand new tag", "slug": "brand-new-tag"}},
    {
        "model": "articles.article",
        "fields": {
            "headline": "A new article",
            "slug": "a-new-article",
            "body": "<p>New.</p>",
            "section": ["culture"],
            "status": "published",
            "published_at": "2021-11-01T09:00:00Z",
        },
    },
    {
        "model": "articles.authorship",
        "fields": {"article": ["a-new-article"], "author": ["new-writer"], "position": 0},
    },
    {"model": "articles.taggedarticle", "fields": {"content_object": ["a-new-article"], "tag": ["brand-new-tag"]}},
    {
        "model": "articles.related",
        "fields": {"article": [SEED_SLUG], "related_article": ["a-new-article"], "position": 5},
    },
]


def assert_no_new_objects():
    assert not Section.objects.filter(slug="culture").exists()
    assert not Author.objects.filter(slug="new-writer").exists()
    assert not Tag.objects.filter(slug="brand-new-tag").exists()
    assert not Article.objects.filter(slug="a-new-article").exists()


BAD_FIXTURES = {
    "missing-section": (
        DeserializationError,
        {
            "model": "articles.article",
            "fields": {
                "headline": "Orphan",
                "slug": "orphan",
                "section": ["no-such-section"],
                "status": "draft",
                "published_at": "2021-11-01T09:00:00Z",
            },
        },
        "Section matching query does not exist",
    ),
    "related-to-itself": (
        IntegrityError,
        {"model": "articles.related", "fields": {"article": [SEED_SLUG], "related_article": [SEED_SLUG]}},
        "related_not_itself",
    ),
    "tag-name-differing-only-in-case": (
        IntegrityError,
        {"model": "articles.tag", "fields": {"name": "MALI", "slug": "mali-shouting"}},
        r"articles_tag[._]key",  # Tag.key: the normalized, case-folded name
    ),
    "tag-name-differing-only-in-width-and-invisibles": (
        IntegrityError,
        {"model": "articles.tag", "fields": {"name": "Ｍali\u200b", "slug": "mali-wide"}},
        r"articles_tag[._](name|key)",  # stored as "Mali": taggit's unique name may object first
    ),
    "unknown-status": (
        IntegrityError,
        {
            "model": "articles.article",
            "fields": {"headline": "Live", "slug": "live", "status": "LIVE", "published_at": "2021-11-01T09:00:00Z"},
        },
        "article_status_valid",
    ),
    "headline-too-long": (
        DatabaseError,  # SQLite: article_headline_length; PostgreSQL: VARCHAR(255)
        {
            "model": "articles.article",
            "fields": {
                "headline": "x" * 10_000,
                "slug": "long",
                "status": "draft",
                "published_at": "2021-11-01T09:00:00Z",
            },
        },
        r"article_headline_length|too long",
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(BAD_FIXTURES))
def test_bad_fixture_fails_whole_and_leaves_the_database_as_it_was(tmp_path, case):
    """
    The bad object comes after valid new rows in the same file, and the test
    runs outside a test transaction, so loaddata's own transaction is the one
    that must roll those earlier rows back.
    """
    exception, bad_object, message = BAD_FIXTURES[case]
    load_demo()
    counts, rows = table_counts(), snapshot()
    fixture = tmp_path / f"{case}.json"
    fixture.write_text(json.dumps([*VALID_NEW_OBJECTS, bad_object]))

    with pytest.raises(exception, match=message):
        call_command("loaddata", str(fixture), verbosity=0)

    assert_no_new_objects()
    assert table_counts() == counts
    assert snapshot() == rows


@pytest.mark.django_db(transaction=True)
def test_malformed_json_fixture_fails_and_changes_nothing(tmp_path):
    """JSON is parsed whole before any row is saved, so nothing of the valid start may appear."""
    load_demo()
    counts, rows = table_counts(), snapshot()
    fixture = tmp_path / "malformed.json"
    fixture.write_text(json.dumps(VALID_NEW_OBJECTS)[:-1] + ', {"model": "articles.tag", "fields": {"name": ')

    with pytest.raises(DeserializationError, match="malformed.json") as excinfo:
        call_command("loaddata", str(fixture), verbosity=0)

    assert isinstance(excinfo.value.__cause__, json.JSONDecodeError)
    assert_no_new_objects()
    assert table_counts() == counts
    assert snapshot() == rows


def test_the_valid_part_alone_does_load(tmp_path):
    """Control for the tests above: without the bad object, the same rows go in."""
    load_demo()
    fixture = tmp_path / "good.json"
    fixture.write_text(json.dumps(VALID_NEW_OBJECTS))

    call_command("loaddata", str(fixture), verbosity=0)

    article = Article.objects.get(slug="a-new-article")
    assert article.section.slug == "culture"
    assert [author.slug for author in article.byline] == ["new-writer"]
    assert [tag.slug for tag in article.tags.all()] == ["brand-new-tag"]
    assert Related.objects.filter(article__slug=SEED_SLUG, related_article=article).exists()


def test_fixture_without_timestamps_loads(tmp_path):
    before = timezone.now()
    fixture = tmp_path / "no-timestamps.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "articles.article",
                    "fields": {
                        "headline": "No timestamps",
                        "slug": "no-timestamps",
                        "status": "published",
                        "published_at": "2021-11-01T09:00:00Z",
                    },
                }
            ]
        )
    )

    call_command("loaddata", str(fixture), verbosity=0)

    article = Article.objects.get(slug="no-timestamps")
    assert article.created_at >= before
    assert article.updated_at >= before
    assert article.published_at == datetime(2021, 11, 1, 9, 0, tzinfo=UTC)
    assert not article.was_updated


# Round trip through dumpdata with natural keys.


def normalise(html):
    """Drop per-request tokens (CSP nonces, CSRF tokens) so only content differences remain."""
    html = re.sub(r'\snonce="[^"]*"', "", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)


def render_site(client):
    paths = ["/", "/?page=2"]
    paths += [article.get_absolute_url() for article in Article.objects.published()]
    paths += [tag.get_absolute_url() for tag in Tag.objects.all()]
    paths += [section.get_absolute_url() for section in Section.objects.all()]
    paths += [author.get_absolute_url() for author in Author.objects.all()]
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content.count(b"<h1") == 1, path
        pages[path] = normalise(response.content.decode())
    return pages


def test_natural_key_dump_round_trips_to_the_same_site(client, tmp_path):
    load_demo()
    pages, tags, links = render_site(client), tag_sets(), link_rows()
    heavily_tagged = {slug: slugs for slug, slugs in tags.items() if len(slugs) >= 4}
    assert SEED_SLUG in heavily_tagged
    dump = tmp_path / "articles.json"

    call_command("dumpdata", "articles", natural_foreign=True, natural_primary=True, output=str(dump), verbosity=0)
    Article.objects.all().delete()
    Tag.objects.all().delete()
    Author.objects.all().delete()
    Section.objects.all().delete()
    BreakingNews.objects.all().delete()
    assert set(table_counts().values()) == {0}
    call_command("loaddata", str(dump), verbosity=0)

    assert '"pk"' not in dump.read_text()
    assert tag_sets() == tags
    for slug, slugs in heavily_tagged.items():
        assert {tag.slug for tag in Article.objects.get(slug=slug).tags.all()} == slugs
    assert link_rows() == links
    after = render_site(client)
    assert after.keys() == pages.keys()
    for path, html in pages.items():
        assert after[path] == html, path
