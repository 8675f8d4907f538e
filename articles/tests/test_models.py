"""Models and querysets: constraints, visibility, navigation, related articles, sanitizing, natural keys."""

import json
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import resolve
from django.utils import timezone

from articles.models import Article, Author, Authorship, Related, Section, Tag, TaggedArticle

from .factories import make_article, make_author, make_section, relate

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT
PUBLISHED = Article.Status.PUBLISHED

# A body with everything the allowlist refuses, around things it keeps...
DIRTY_BODY = (
    '<p onclick="steal()">Hello <a href="javascript:alert(1)">bad link</a> '
    '<a href="https://example.com/">good link</a> <a href="mailto:desk@example.com">mail</a></p>'
    "<script>alert(1)</script>"
    '<iframe src="https://evil.example/"></iframe>'
    "<style>body { display: none }</style>"
)
# ...and what must reach the database.
CLEAN_BODY = (
    '<p>Hello <a rel="noopener noreferrer">bad link</a> '
    '<a href="https://example.com/" rel="noopener noreferrer">good link</a> '
    '<a href="mailto:desk@example.com" rel="noopener noreferrer">mail</a></p>'
)
# Every element the editor can make; it must come through unchanged.
ALLOWED_BODY = (
    "<h2>Heading</h2><h3>Subheading</h3>"
    "<ul><li>one</li></ul><ol><li>two</li></ol>"
    "<blockquote><p>Quoted</p></blockquote>"
    "<p><strong>strong</strong> <em>emphasis</em><br>next line</p>"
    '<figure><img src="https://example.com/a.jpg" alt="A picture"><figcaption>Caption</figcaption></figure>'
)


def body_in_db(article):
    return Article.objects.values_list("body", flat=True).get(pk=article.pk)


def assert_no_unsafe_markup(html):
    for fragment in ("<script", "alert(1)", "onclick", "javascript:", "<iframe", "<style", "display: none"):
        assert fragment not in html


# 1. Constraints and defaults


@pytest.mark.parametrize(
    "create",
    [
        pytest.param(lambda name: make_article(slug="same", headline=name), id="article"),
        pytest.param(lambda name: make_section(name, slug="same"), id="section"),
        pytest.param(lambda name: make_author(name, slug="same"), id="author"),
        pytest.param(lambda name: Tag.objects.create(name=name, slug="same"), id="tag"),
    ],
)
def test_slugs_are_unique(create):
    create("First")
    with pytest.raises(IntegrityError), transaction.atomic():
        create("Second")


def test_tag_names_are_unique_ignoring_case_in_the_database():
    """Even past taggit's slug retry ("mali" gets slug "mali_1"), the Lower(name) constraint refuses it."""
    Tag.objects.create(name="Mali")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="mali")
    assert list(Tag.objects.values_list("name", flat=True)) == ["Mali"]


def test_adding_a_tag_in_another_case_reuses_the_existing_tag():
    mali = Tag.objects.create(name="Mali")
    article = make_article()
    article.tags.add("mali")
    assert list(article.tags.all()) == [mali]
    assert Tag.objects.count() == 1


def test_related_refuses_a_duplicate_pair():
    article, other = make_article(), make_article()
    Related.objects.create(article=article, related_article=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Related.objects.create(article=article, related_article=other, position=1)
    # The reverse direction is another pair.
    Related.objects.create(article=other, related_article=article)


def test_related_refuses_an_article_related_to_itself():
    article = make_article()
    with pytest.raises(IntegrityError), transaction.atomic():
        Related.objects.create(article=article, related_article=article)
    assert not Related.objects.exists()


def test_article_needs_only_headline_slug_body_status_and_publication_time():
    before = timezone.now()
    article = Article.objects.create(
        headline="Minimal",
        slug="minimal",
        body="<p>Text</p>",
        status=PUBLISHED,
        published_at=datetime(2021, 10, 1, 9, tzinfo=UTC),
    )
    after = timezone.now()
    article.refresh_from_db()
    assert before <= article.created_at <= after
    assert before <= article.updated_at <= after
    assert article.section is None
    assert article.standfirst == article.credit == ""
    assert list(article.authors.all()) == []
    assert list(article.tags.all()) == []


@pytest.mark.parametrize("update_fields", [None, ["headline"]], ids=["save", "save-update-fields"])
def test_save_bumps_updated_at(update_fields):
    article = make_article(days=-30)
    long_ago = timezone.now() - timedelta(days=30)
    Article.objects.filter(pk=article.pk).update(updated_at=long_ago)
    article.refresh_from_db()

    article.headline = "Corrected headline"
    before = timezone.now()
    article.save(update_fields=update_fields)

    article.refresh_from_db()
    assert article.headline == "Corrected headline"
    assert article.updated_at >= before


# 2. Visibility: published(), scheduled(), is_live, is_scheduled


def test_published_includes_only_published_articles_whose_time_has_come():
    live = make_article(days=-1)
    make_article(days=-1, status=DRAFT)
    make_article(days=+1, status=DRAFT)
    make_article(days=+1)  # scheduled
    assert list(Article.objects.published()) == [live]


def test_scheduled_includes_only_published_articles_whose_time_is_to_come():
    make_article(days=-1)
    make_article(days=-1, status=DRAFT)
    make_article(days=+1, status=DRAFT)
    scheduled = make_article(days=+1)
    assert list(Article.objects.scheduled()) == [scheduled]


def test_scheduled_article_goes_live_when_its_time_comes():
    now = timezone.now()
    article = make_article(published_at=now + timedelta(hours=1))
    assert not Article.objects.published().filter(pk=article.pk).exists()
    assert list(Article.objects.scheduled()) == [article]
    assert article.is_scheduled and not article.is_live

    with patch("django.utils.timezone.now", return_value=now + timedelta(hours=1, seconds=1)):
        assert Article.objects.published().filter(pk=article.pk).exists()
        assert not Article.objects.scheduled().exists()
        assert article.is_live and not article.is_scheduled


def test_publication_time_itself_is_live():
    """published_at <= now: the very instant of publication counts as published."""
    now = timezone.now()
    article = make_article(published_at=now + timedelta(hours=1))
    with patch("django.utils.timezone.now", return_value=article.published_at):
        assert list(Article.objects.published()) == [article]
        assert not Article.objects.scheduled().exists()
        assert article.is_live and not article.is_scheduled


def test_is_live_and_is_scheduled_agree_with_published():
    articles = {
        "live": make_article(days=-1),
        "old draft": make_article(days=-1, status=DRAFT),
        "future draft": make_article(days=+1, status=DRAFT),
        "scheduled": make_article(days=+1),
    }
    published = set(Article.objects.published())
    scheduled = set(Article.objects.scheduled())
    for label, article in articles.items():
        assert article.is_live == (article in published), label
        assert article.is_scheduled == (article in scheduled), label
    assert {label for label, article in articles.items() if article.is_live} == {"live"}
    assert {label for label, article in articles.items() if article.is_scheduled} == {"scheduled"}


# 3. Previous and next


@pytest.fixture
def timeline():
    """
    Eight published articles, three of them at the very same instant, created
    out of time order and interleaved with drafts and scheduled articles
    (one draft shares the tied instant). Returns (published in reading order,
    the unpublished ones by name).
    """
    base = timezone.now() - timedelta(days=30)
    tie = base + timedelta(days=3)
    published, unpublished = [], {}
    published.append(make_article(published_at=base + timedelta(days=5)))
    published.append(make_article(published_at=tie))
    unpublished["draft at the tie"] = make_article(published_at=tie, status=DRAFT)
    published.append(make_article(published_at=base + timedelta(days=1)))
    published.append(make_article(published_at=tie))
    unpublished["scheduled"] = make_article(days=+1)
    published.append(make_article(published_at=base + timedelta(days=6)))
    unpublished["draft between"] = make_article(published_at=base + timedelta(days=2, hours=12), status=DRAFT)
    published.append(make_article(published_at=base + timedelta(days=2)))
    published.append(make_article(published_at=tie))
    unpublished["later scheduled"] = make_article(days=+2)
    published.append(make_article(published_at=base + timedelta(days=4)))
    unpublished["old draft"] = make_article(published_at=base, status=DRAFT)
    published.sort(key=lambda article: (article.published_at, article.id))
    return published, unpublished


def walk(article, step):
    visited = []
    for _ in range(50):
        article = step(article)
        if article is None:
            return visited
        visited.append(article)
    raise AssertionError(f"walk did not end: {visited}")


def test_first_has_no_previous_and_last_has_no_next(timeline):
    published, _ = timeline
    assert published[0].get_previous_published() is None
    assert published[-1].get_next_published() is None
    assert published[0].get_next_published() == published[1]
    assert published[-1].get_previous_published() == published[-2]


def test_walking_next_from_the_oldest_visits_every_published_article_once(timeline):
    published, _ = timeline
    assert len(published) == 8
    assert walk(published[0], Article.get_next_published) == published[1:]


def test_walking_previous_from_the_newest_visits_every_published_article_once(timeline):
    published, _ = timeline
    assert walk(published[-1], Article.get_previous_published) == published[-2::-1]


def test_articles_at_the_same_instant_follow_each_other_by_id(timeline):
    published, _ = timeline
    tied = [article for article in published if article.published_at == published[3].published_at]
    assert len(tied) == 3
    assert [article.id for article in tied] == sorted(article.id for article in tied)
    assert tied[0].get_next_published() == tied[1]
    assert tied[1].get_next_published() == tied[2]
    assert tied[2].get_previous_published() == tied[1]
    assert tied[1].get_previous_published() == tied[0]


def test_unpublished_articles_are_never_neighbours(timeline):
    published, unpublished = timeline
    neighbours = set()
    for article in published:
        neighbours.update({article.get_previous_published(), article.get_next_published()})
    assert not neighbours & set(unpublished.values())


def test_a_draft_gets_published_neighbours(timeline):
    """Staff previewing a draft still see the published articles around it."""
    published, unpublished = timeline
    # published: [day 1, day 2, tie A, tie B, tie C, day 4, day 5, day 6]
    draft = unpublished["draft between"]  # day 2.5
    assert draft.get_previous_published() == published[1]
    assert draft.get_next_published() == published[2]

    # A draft at the tied instant sits among the tied articles by its id (created between A and B).
    draft = unpublished["draft at the tie"]
    assert published[2].id < draft.id < published[3].id
    assert draft.get_previous_published() == published[2]
    assert draft.get_next_published() == published[3]

    assert unpublished["old draft"].get_previous_published() is None
    assert unpublished["old draft"].get_next_published() == published[0]


def test_a_scheduled_article_follows_the_newest_live_one(timeline):
    published, unpublished = timeline
    assert unpublished["scheduled"].get_previous_published() == published[-1]
    assert unpublished["scheduled"].get_next_published() is None


@pytest.mark.parametrize(
    ("time_zone", "published_at", "expected_url"),
    [
        ("Asia/Tokyo", datetime(2021, 9, 30, 20, 30, tzinfo=UTC), "/2021/10/01/dawn-raid/"),
        ("America/New_York", datetime(2021, 10, 1, 2, 0, tzinfo=UTC), "/2021/09/30/dawn-raid/"),
        ("UTC", datetime(2021, 9, 30, 20, 30, tzinfo=UTC), "/2021/09/30/dawn-raid/"),
        ("UTC", datetime(2021, 10, 1, 2, 0, tzinfo=UTC), "/2021/10/01/dawn-raid/"),
    ],
)
def test_url_date_is_the_local_publication_date(client, settings, time_zone, published_at, expected_url):
    """The date in the URL is the newsroom's local date, and the page is served there without a redirect."""
    settings.TIME_ZONE = time_zone
    article = make_article(slug="dawn-raid", published_at=published_at)
    assert article.get_absolute_url() == expected_url
    assert resolve(expected_url).view_name == "articles:article"
    assert client.get(expected_url).status_code == 200


# 4. Related articles


def test_curated_related_articles_come_in_position_order():
    article = make_article()
    first, second, third = make_article(days=-3), make_article(days=-1), make_article(days=-2)
    Related.objects.create(article=article, related_article=third, position=2)
    Related.objects.create(article=article, related_article=first, position=0)
    Related.objects.create(article=article, related_article=second, position=1)
    assert article.get_related_articles() == [first, second, third]


def test_related_fill_by_most_shared_tags_then_most_recent():
    article = make_article(tags=["Mali", "Niger", "Sahel"])
    three_shared = make_article(days=-10, tags=["Mali", "Niger", "Sahel"])
    two_shared = make_article(days=-1, tags=["Mali", "Niger", "Chad"])
    one_shared_recent = make_article(days=-1, tags=["Sahel"])
    one_shared_older = make_article(days=-2, tags=["Mali"])
    make_article(days=-3, tags=["Niger"])  # fifth: left out
    make_article(days=-1, tags=["Chad"])  # shares nothing
    assert article.get_related_articles() == [three_shared, two_shared, one_shared_recent, one_shared_older]


def test_related_never_includes_unpublished_articles_or_the_article_itself():
    article = make_article(tags=["Mali", "Niger"])
    curated_draft = make_article(status=DRAFT, tags=["Mali", "Niger"])
    curated_scheduled = make_article(days=+1, tags=["Mali", "Niger"])
    curated = make_article(days=-5)
    make_article(status=DRAFT, tags=["Mali", "Niger"])
    make_article(days=+1, tags=["Mali", "Niger"])
    fill = make_article(days=-3, tags=["Mali"])
    relate(article, curated_draft, curated, curated_scheduled)
    assert article.get_related_articles() == [curated, fill]


def test_related_fill_does_not_repeat_curated_articles():
    article = make_article(tags=["Mali", "Niger"])
    curated = make_article(days=-1, tags=["Mali", "Niger"])
    other = make_article(days=-2, tags=["Mali"])
    relate(article, curated)
    related = article.get_related_articles()
    assert related == [curated, other]


def test_only_the_first_four_curated_articles():
    article = make_article(tags=["Mali"])
    curated = [make_article(days=-days, tags=["Mali"]) for days in range(1, 7)]
    relate(article, *curated)
    assert article.get_related_articles() == curated[:4]


def test_no_tags_and_no_curated_links_means_no_related_articles():
    article = make_article()
    make_article(tags=["Mali"])
    make_article()
    assert article.get_related_articles() == []


@pytest.mark.parametrize("tag_count", [1, 3, 12])
def test_related_fill_takes_one_query_whatever_the_number_of_tags(django_assert_num_queries, tag_count):
    tags = [f"Tag {n}" for n in range(tag_count)]
    article = make_article(tags=tags)
    curated = make_article(days=-1)
    relate(article, curated)
    others = [make_article(days=-n - 2, tags=tags[: n + 1]) for n in range(5)]
    article = Article.objects.get(pk=article.pk)
    with django_assert_num_queries(1):
        related = article.get_related_articles()
    assert len(related) == 4
    assert related[0] == curated
    assert set(related[1:]) <= set(others)


def test_related_takes_one_query_when_curated_links_fill_the_list(django_assert_num_queries):
    article = make_article(tags=["Mali", "Niger"])
    curated = [make_article(days=-n) for n in range(1, 5)]
    make_article(tags=["Mali", "Niger"])
    relate(article, *curated)
    article = Article.objects.get(pk=article.pk)
    with django_assert_num_queries(1):
        assert article.get_related_articles() == curated


# 5. Sanitizing the body, whatever the way in; escaping the headline


def test_create_sanitizes_the_body():
    article = make_article(body=DIRTY_BODY)
    assert article.body == CLEAN_BODY
    assert body_in_db(article) == CLEAN_BODY


def test_allowed_markup_survives_sanitizing():
    article = make_article(body=ALLOWED_BODY)
    assert body_in_db(article) == ALLOWED_BODY


def test_queryset_update_sanitizes_the_body():
    article = make_article()
    Article.objects.filter(pk=article.pk).update(body=DIRTY_BODY)
    assert body_in_db(article) == CLEAN_BODY


def test_bulk_create_sanitizes_the_body():
    now = timezone.now()
    Article.objects.bulk_create(
        [
            Article(headline="One", slug="one", body=DIRTY_BODY, status=PUBLISHED, published_at=now),
            Article(headline="Two", slug="two", body=ALLOWED_BODY + DIRTY_BODY, status=PUBLISHED, published_at=now),
        ]
    )
    bodies = dict(Article.objects.values_list("slug", "body"))
    assert bodies == {"one": CLEAN_BODY, "two": ALLOWED_BODY + CLEAN_BODY}


def write_fixture(tmp_path, objects):
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(objects))
    return str(path)


def test_loaddata_sanitizes_the_body(tmp_path):
    """loaddata saves raw (no save(), no pre_save()); the field still cleans the value on its way to SQL."""
    fields = {
        "headline": "From a fixture",
        "slug": "from-a-fixture",
        "body": "<p>x</p><script>alert(1)</script>" + DIRTY_BODY,
        "status": "published",
        "published_at": "2021-10-01T09:00:00Z",
    }
    path = write_fixture(tmp_path, [{"model": "articles.article", "fields": fields}])
    call_command("loaddata", path, verbosity=0)

    article = Article.objects.get(slug="from-a-fixture")
    assert article.body == "<p>x</p>" + CLEAN_BODY
    assert_no_unsafe_markup(article.body)


def test_every_way_in_sanitizes_the_body_once(tmp_path):
    """One nh3 pass a body written, not one in validation, pre_save() and get_prep_value() each."""
    from articles import html

    def passes(write):
        with patch.object(html, "clean", wraps=html.clean) as clean:
            write()
        return clean.call_count

    article = make_article()
    now = timezone.now()

    def validate_and_save():  # what the admin's model form does
        article.body = DIRTY_BODY
        article.full_clean()
        article.save()

    fixture = [{"model": "articles.article", "fields": {"headline": "F", "slug": "f", "body": DIRTY_BODY}}]
    assert passes(validate_and_save) == 1
    assert passes(lambda: make_article(body=DIRTY_BODY)) == 1
    assert passes(lambda: Article.objects.filter(pk=article.pk).update(body=DIRTY_BODY)) == 1
    assert (
        passes(
            lambda: Article.objects.bulk_create(
                [Article(headline=n, slug=n, body=DIRTY_BODY, published_at=now) for n in ("a", "b")]
            )
        )
        == 2
    )
    assert passes(lambda: call_command("loaddata", write_fixture(tmp_path, fixture), verbosity=0)) == 1
    assert set(Article.objects.values_list("body", flat=True)) == {CLEAN_BODY}


def test_loaddata_without_pk_updates_the_article_with_that_natural_key(tmp_path):
    article = make_article(slug="from-a-fixture", headline="Before")
    fields = {
        "headline": "After",
        "slug": "from-a-fixture",
        "body": "<p>New</p><script>alert(1)</script>",
        "status": "published",
        "published_at": "2021-10-01T09:00:00Z",
    }
    call_command("loaddata", write_fixture(tmp_path, [{"model": "articles.article", "fields": fields}]), verbosity=0)
    assert Article.objects.count() == 1
    article.refresh_from_db()
    assert (article.headline, article.body) == ("After", "<p>New</p>")


def test_headline_and_standfirst_are_escaped_on_the_page(client):
    article = make_article(headline="<script>alert(1)</script>", standfirst='<img src=x onerror="alert(2)">')
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    content = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)</script>" not in content
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in content
    assert "<img src=x" not in content


# 6. Natural keys


@pytest.fixture
def article_graph():
    section = make_section("Africa", slug="africa")
    author = make_author("Amara Diallo", slug="amara-diallo")
    article = make_article(slug="coup-in-niamey", section=section, tags=["Niger"], authors=[author])
    other = make_article(slug="sahel-explained")
    relate(article, other)
    return {
        "section": section,
        "author": author,
        "tag": Tag.objects.get(name="Niger"),
        "article": article,
        "authorship": Authorship.objects.get(article=article),
        "tagged article": TaggedArticle.objects.get(content_object=article),
        "related": Related.objects.get(article=article),
    }


@pytest.mark.parametrize(
    ("name", "expected_key"),
    [
        ("section", ("africa",)),
        ("author", ("amara-diallo",)),
        ("tag", ("niger",)),
        ("article", ("coup-in-niamey",)),
        ("authorship", ("coup-in-niamey", "amara-diallo")),
        ("tagged article", ("coup-in-niamey", "niger")),
        ("related", ("coup-in-niamey", "sahel-explained")),
    ],
)
def test_natural_key_round_trips(article_graph, name, expected_key):
    instance = article_graph[name]
    key = instance.natural_key()
    assert tuple(key) == expected_key
    assert type(instance)._default_manager.get_by_natural_key(*key) == instance


def test_dumpdata_with_natural_keys_loads_back_into_an_empty_database(article_graph, tmp_path):
    path = tmp_path / "dump.json"
    call_command("dumpdata", "articles", natural_foreign=True, natural_primary=True, output=str(path), verbosity=0)
    assert '"pk"' not in path.read_text()

    Article.objects.all().delete()
    Tag.objects.all().delete()
    Author.objects.all().delete()
    Section.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)

    article = Article.objects.get(slug="coup-in-niamey")
    assert article.section.slug == "africa"
    assert [author.slug for author in article.authors.all()] == ["amara-diallo"]
    assert list(article.tags.names()) == ["Niger"]
    assert [a.slug for a in article.get_related_articles()] == ["sahel-explained"]
