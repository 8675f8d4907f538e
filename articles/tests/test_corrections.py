"""
Corrections, clarifications and updates: where readers see them (article page,
JSON-LD, feeds, /corrections/), that unpublished articles never show them, the
modified date they bump, the admin inline, fixtures and query budgets.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, Correction
from articles.services import unpublish_articles

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT
CORRECTION = Correction.Kind.CORRECTION
CLARIFICATION = Correction.Kind.CLARIFICATION
UPDATE = Correction.Kind.UPDATE

# The article page: the reader's 4 queries (see test_views.py), its corrections read
# with its byline and tags, whatever the number of corrections.
ARTICLE_PAGE_QUERIES = 4
# One page of corrections with their articles (no COUNT), the page header (menu and banner).
CORRECTIONS_PAGE_QUERIES = 2


def correct(article, text="An earlier version misspelt a name.", kind=CORRECTION, **fields):
    return Correction.objects.create(article=article, kind=kind, text=text, **fields)


def json_ld(response):
    blocks = re.findall(rb'<script type="application/ld\+json"[^>]*>(.*?)</script>', response.content, re.S)
    items = []
    for block in blocks:
        data = json.loads(block)
        items.extend(data if isinstance(data, list) else [data])
    return items


def news_article(response):
    return next(item for item in json_ld(response) if item.get("@type") == "NewsArticle")


@pytest.fixture
def utc(settings):
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def articles():
    """A published, a draft and a scheduled article, each written when it was (to be) published."""
    made = {
        "published": make_article(days=-2, headline="Published story", slug="published"),
        "draft": make_article(days=-1, status=DRAFT, headline="Draft story", slug="draft"),
        "scheduled": make_article(days=2, headline="Scheduled story", slug="scheduled"),
    }
    for article in made.values():
        Article.objects.filter(pk=article.pk).update(created_at=article.published_at, updated_at=article.published_at)
        article.refresh_from_db()
    return made


# The model.


def test_saving_a_correction_bumps_the_articles_modified_date(articles):
    article = articles["published"]
    before = Article.objects.get(pk=article.pk).updated_at

    correct(article)

    after = Article.objects.get(pk=article.pk).updated_at
    assert after > before
    assert Article.objects.get(pk=article.pk).was_updated


def test_editing_a_correction_bumps_it_again(articles):
    note = correct(articles["published"])
    first = Article.objects.get(pk=note.article_id).updated_at

    note.text = "An earlier version misspelt the minister's name."
    note.save()

    assert Article.objects.get(pk=note.article_id).updated_at > first


def test_kind_must_be_one_of_the_three(articles):
    with pytest.raises(IntegrityError), transaction.atomic():
        Correction.objects.create(article=articles["published"], kind="retraction", text="No.")


def test_notes_added_in_the_same_millisecond_step_apart(articles):
    """(article, time) is the natural key; save() keeps it unique, the database enforces it."""
    when = datetime(2031, 1, 2, 10, 0, 0, 123456, tzinfo=UTC)
    first = correct(articles["published"], created_at=when)
    second = correct(articles["published"], text="Another one at the same instant.", created_at=when)

    assert first.created_at == datetime(2031, 1, 2, 10, 0, 0, 123000, tzinfo=UTC)
    assert second.created_at == datetime(2031, 1, 2, 10, 0, 0, 124000, tzinfo=UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        Correction.objects.bulk_create(
            [Correction(article=articles["published"], text="x", created_at=first.created_at)]
        )


def test_published_corrections_are_those_of_live_articles(articles):
    visible = correct(articles["published"])
    correct(articles["draft"])
    correct(articles["scheduled"])

    assert list(Correction.objects.published()) == [visible]


def test_corrections_for_readers_splits_updates_from_corrections(articles):
    article = articles["published"]
    now = timezone.now()
    fix = correct(article, created_at=now - timedelta(hours=3))
    update = correct(article, "Talks resumed on Friday.", kind=UPDATE, created_at=now - timedelta(hours=2))
    clarify = correct(article, "The figure is annual.", kind=CLARIFICATION, created_at=now - timedelta(hours=1))

    assert Article.objects.get(pk=article.pk).corrections_for_readers() == ([update], [fix, clarify])
    correct(articles["draft"])
    assert Article.objects.get(pk=articles["draft"].pk).corrections_for_readers() == ([], [])


def test_deleting_an_article_deletes_its_corrections(articles):
    correct(articles["published"])
    articles["published"].delete()
    assert not Correction.objects.exists()


# The article page.


def test_article_page_shows_updates_near_the_top_and_corrections_at_the_foot(client, articles, utc):
    article = articles["published"]
    correct(
        article,
        "An earlier version of this article said the helicopters were bought in 2021.",
        created_at=datetime(2021, 10, 2, 8, 30, tzinfo=UTC),
    )
    correct(article, "Talks resumed on Friday.", kind=UPDATE, created_at=datetime(2021, 10, 3, 12, 0, tzinfo=UTC))

    response = client.get(article.get_absolute_url())

    html = response.content.decode()
    byline, updates, body, corrections = (
        html.index('class="byline"'),
        html.index('class="article-updates"'),
        html.index('class="article-body"'),
        html.index('class="article-corrections"'),
    )
    assert byline < updates < body < corrections
    assert "Talks resumed on Friday." in html[updates:body]
    assert "helicopters were bought in 2021" in html[corrections:]
    assertContains(response, '<time datetime="2021-10-02T08:30:00+00:00">2 October 2021, 08:30 UTC</time>')
    assertContains(response, '<h2 id="corrections-heading">Corrections</h2>')
    assertContains(response, "· Updated")
    assert html.count("<h1") == 1


def test_article_without_corrections_has_no_corrections_section(client, articles):
    response = client.get(articles["published"].get_absolute_url())
    assertNotContains(response, "article-corrections")
    assertNotContains(response, "article-updates")


def test_correction_text_is_escaped(client, articles):
    correct(articles["published"], 'We said <script>alert("x")</script> & more.')

    response = client.get(articles["published"].get_absolute_url())

    assertContains(response, "We said &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more.")
    assertNotContains(response, '<script>alert("x")</script>')


@pytest.mark.parametrize("which", ["draft", "scheduled"])
def test_staff_preview_of_an_unpublished_article_shows_no_corrections(admin_client, articles, which):
    correct(articles[which], "Never shown while unpublished.")
    correct(articles[which], "Nor this update.", kind=UPDATE)

    response = admin_client.get(articles[which].get_absolute_url())

    assertContains(response, "Not published.")
    assertNotContains(response, "Never shown while unpublished.")
    assertNotContains(response, "Nor this update.")


def test_unpublishing_an_article_hides_its_corrections_again(client, articles):
    article = articles["published"]
    correct(article, "Shown while live.")
    unpublish_articles(articles=Article.objects.filter(pk=article.pk), by=None)

    assert client.get(article.get_absolute_url()).status_code == 404
    assertNotContains(client.get(reverse("articles:corrections")), "Shown while live.")


def test_json_ld_carries_the_corrections(client, articles):
    article = articles["published"]
    fix = correct(article, "The minister's name was misspelt.", created_at=timezone.now() - timedelta(hours=1))
    correct(article, "Talks resumed on Friday.", kind=UPDATE)

    data = news_article(client.get(article.get_absolute_url()))

    assert data["correction"][0] == {
        "@type": "CorrectionComment",
        "name": "Correction",
        "text": "The minister's name was misspelt.",
        "datePublished": fix.created_at.replace(microsecond=0).isoformat(),  # whole seconds, as on the page
    }
    assert [item["name"] for item in data["correction"]] == ["Correction", "Update"]
    assert data["dateModified"] == Article.objects.get(pk=article.pk).updated_at.replace(microsecond=0).isoformat()


def test_json_ld_has_no_correction_property_without_corrections(client, articles):
    data = news_article(client.get(articles["published"].get_absolute_url()))
    assert "correction" not in data


@pytest.mark.parametrize("count", [0, 1, 12])
def test_article_page_query_count_does_not_grow_with_corrections(client, django_assert_num_queries, count):
    article = make_article(
        days=-1, section=make_section(), authors=[make_author(), make_author()], tags=["Mali", "Russia"]
    )
    make_article(days=-3, tags=["Mali"])
    make_article(days=-2)
    make_article(days=-0.5)
    start = timezone.now() - timedelta(days=1)
    for i in range(count):
        correct(
            article, f"Note {i}.", kind=UPDATE if i % 3 == 0 else CORRECTION, created_at=start + timedelta(minutes=i)
        )

    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        response = client.get(article.get_absolute_url())

    assert len(response.context["updates"]) + len(response.context["corrections"]) == count


# Feeds.


@pytest.mark.parametrize("feed", ["articles:latest-rss", "articles:latest-atom"])
def test_feed_item_carries_the_corrections_of_its_article(client, articles, feed):
    correct(articles["published"], "The minister was misspelt.")
    correct(articles["published"], "Talks resumed on Friday.", kind=UPDATE)
    correct(articles["draft"], "Draft correction, never in a feed.")

    response = client.get(reverse(feed))

    content = response.content.decode()
    assert "&lt;strong&gt;Correction, " in content
    assert "The minister was misspelt." in content
    assert "&lt;strong&gt;Update, " in content
    assert "Talks resumed on Friday." in content
    assert "Draft correction" not in content
    # The update comes before the body, the correction after it, as on the page.
    assert content.index("Talks resumed") < content.index("Body of article") < content.index("misspelt")


def test_feed_query_count_does_not_grow_with_corrections(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def feed_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("articles:latest-rss")).status_code == 200
        return len(queries)

    article = make_article(days=-1)
    correct(article)
    few = feed_queries()
    start = timezone.now() - timedelta(days=3)
    for i in range(10):
        other = make_article(days=-2)
        for j in range(3):
            correct(other, f"Note {i}.{j}", created_at=start + timedelta(minutes=j))
    assert feed_queries() == few


# The /corrections/ page.


def test_corrections_page_lists_published_corrections_newest_first(client, articles):
    now = timezone.now()
    older = correct(articles["published"], "The older correction.", created_at=now - timedelta(days=1))
    newer = correct(articles["published"], "The newer update.", kind=UPDATE, created_at=now - timedelta(hours=1))
    correct(articles["draft"], "A correction to a draft.")
    correct(articles["scheduled"], "A correction to a scheduled article.")

    response = client.get(reverse("articles:corrections"))

    assert response.status_code == 200
    assert list(response.context["page_obj"].object_list) == [newer, older]
    assertContains(response, f'href="{articles["published"].get_absolute_url()}"', count=2)
    assertNotContains(response, "A correction to a draft.")
    assertNotContains(response, "A correction to a scheduled article.")
    assertNotContains(response, "Draft story")
    assertNotContains(response, "Scheduled story")
    assert response.content.count(b"<h1") == 1


def test_scheduled_articles_corrections_appear_when_it_goes_live(client, articles):
    import time_machine

    article = articles["scheduled"]
    correct(article, "Prepared before publication.")
    assertNotContains(client.get(reverse("articles:corrections")), "Prepared before publication.")

    with time_machine.travel(article.published_at + timedelta(minutes=1)):
        assertContains(client.get(reverse("articles:corrections")), "Prepared before publication.")
        assertContains(client.get(article.get_absolute_url()), "Prepared before publication.")


def test_corrections_page_is_empty_politely(client, articles):
    correct(articles["draft"])
    response = client.get(reverse("articles:corrections"))
    assertContains(response, "No corrections yet.")


def test_corrections_page_is_paginated(client):
    article = make_article(days=-10)
    start = timezone.now() - timedelta(days=5)
    notes = [correct(article, f"Note {i}.", created_at=start + timedelta(minutes=i)) for i in range(25)]

    first = client.get(reverse("articles:corrections"))
    second = client.get(reverse("articles:corrections"), {"page": 2})

    assert list(first.context["page_obj"].object_list) == notes[::-1][:20]
    assert list(second.context["page_obj"].object_list) == notes[::-1][20:]
    assertContains(first, 'rel="next" href="/corrections/?page=2"')
    assert client.get(reverse("articles:corrections"), {"page": 3}).status_code == 404
    assert client.get(reverse("articles:corrections"), {"page": "x"}).status_code == 404


@pytest.mark.parametrize("count", [3, 40])
def test_corrections_page_query_count_is_constant(client, django_assert_num_queries, count):
    make_section()
    start = timezone.now() - timedelta(days=5)
    for _ in range(count):
        correct(make_article(days=-10, body="<p>" + "Long body. " * 200 + "</p>"), created_at=start)
    make_article(status=DRAFT)

    with django_assert_num_queries(CORRECTIONS_PAGE_QUERIES):
        response = client.get(reverse("articles:corrections"))

    assert len(response.context["page_obj"].object_list) == min(count, 20)


# The admin inline.


def test_admin_inline_adds_a_correction_stamped_with_who_and_when(client, articles):
    editor = User.objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(editor)
    article = articles["published"]
    # What the form asks of a live story before it saves an update (Article.missing_for_publication).
    Article.objects.filter(pk=article.pk).update(standfirst="Why it matters.", credit="Staff", section=make_section())
    url = reverse("admin:articles_article_change", args=[article.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None and name not in {"tags", "published_at"}
    }
    published = timezone.localtime(article.published_at)
    data |= {
        "tags": "",
        "published_at_0": published.strftime("%Y-%m-%d"),
        "published_at_1": published.strftime("%H:%M:%S"),
    }
    for prefix in ("authorships", "related_links", "corrections"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data |= {
        "corrections-TOTAL_FORMS": "1",
        "corrections-0-kind": "correction",
        "corrections-0-text": "An earlier version gave the wrong date.",
    }
    before = timezone.now()

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    note = Correction.objects.get()
    assert note.created_by == editor
    assert note.created_at >= before
    assert Article.objects.get(pk=article.pk).updated_at >= note.created_at
    assertContains(client.get(article.get_absolute_url()), "An earlier version gave the wrong date.")


# Fixtures.


def test_corrections_load_from_a_fixture_by_natural_key_and_bump_the_article(tmp_path):
    article = make_article(days=-10, slug="mali-story")
    Article.objects.filter(pk=article.pk).update(updated_at=article.published_at)
    fixture = tmp_path / "corrections.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "articles.correction",
                    "fields": {
                        "article": ["mali-story"],
                        "kind": "correction",
                        "text": "An earlier version misspelt Bamako.",
                        "created_at": "2031-01-02T10:00:00Z",
                    },
                }
            ]
        )
    )

    call_command("loaddata", str(fixture), verbosity=0)
    call_command("loaddata", str(fixture), verbosity=0)

    note = Correction.objects.get()
    assert note.text == "An earlier version misspelt Bamako."
    assert note.created_by is None
    assert Article.objects.get(pk=article.pk).updated_at == datetime(2031, 1, 2, 10, 0, tzinfo=UTC)


def test_corrections_round_trip_through_dumpdata(tmp_path):
    article = make_article(days=-10, slug="mali-story")
    correct(article, "Note one.", created_at=datetime(2031, 1, 2, 10, 0, 0, 123456, tzinfo=UTC))
    correct(article, "Note two.", created_at=datetime(2031, 1, 2, 10, 0, 0, 124000, tzinfo=UTC))
    dump = tmp_path / "dump.json"
    call_command(
        "dumpdata", "articles.correction", natural_foreign=True, natural_primary=True, output=str(dump), verbosity=0
    )
    assert '"pk"' not in dump.read_text()

    # Back into the same database (twice), then into an empty one: never a duplicate.
    call_command("loaddata", str(dump), verbosity=0)
    call_command("loaddata", str(dump), verbosity=0)
    assert [note.text for note in Correction.objects.all()] == ["Note one.", "Note two."]
    Correction.objects.all().delete()
    call_command("loaddata", str(dump), verbosity=0)

    notes = list(Correction.objects.all())
    assert [(note.article, note.text) for note in notes] == [(article, "Note one."), (article, "Note two.")]
    # Stored to the millisecond, as JSON carries it.
    assert notes[0].created_at == datetime(2031, 1, 2, 10, 0, 0, 123000, tzinfo=UTC)
