"""Every address an article has had answers a permanent redirect to where it is now (ArticleRedirect)."""

import json
from datetime import timedelta

import pytest
from django.core import serializers
from django.core.management import call_command
from django.urls import reverse

from articles.caching import keys
from articles.models import Article, ArticleRedirect
from articles.services import unpublish_articles

from .factories import make_article

pytestmark = pytest.mark.django_db


def moved(article, **changes):
    for name, value in changes.items():
        setattr(article, name, value)
    article.save()
    article.refresh_from_db()
    return article.get_absolute_url()


def assert_redirects_permanently(client, old, new):
    response = client.get(old)
    assert (response.status_code, response.headers.get("Location")) == (301, new), old
    assert client.get(new).status_code == 200


def test_every_old_address_redirects_to_the_current_one_whatever_changed(client):
    article = make_article(days=-3, slug="first-slug")
    addresses = [article.get_absolute_url()]
    addresses.append(moved(article, slug="second-slug"))
    addresses.append(moved(article, published_at=article.published_at - timedelta(days=2)))
    current = moved(article, slug="third-slug", published_at=article.published_at + timedelta(days=1))

    assert len(set(addresses + [current])) == 4
    for old in addresses:
        assert_redirects_permanently(client, old, current)


def test_moving_back_to_an_old_address_leaves_no_loop(client):
    article = make_article(days=-1, slug="original")
    original = article.get_absolute_url()
    detour = moved(article, slug="detour")
    assert moved(article, slug="original") == original

    assert client.get(original).status_code == 200
    assert_redirects_permanently(client, detour, original)
    assert list(ArticleRedirect.objects.values_list("old_path", flat=True)) == [detour]


def test_a_freed_address_is_taken_by_a_new_article(client):
    """The slug and day an article left (or a deleted article had) may be used again: the new article wins."""
    first = make_article(days=-1, slug="budget")
    address = first.get_absolute_url()
    moved(first, slug="budget-2026")
    newcomer = make_article(published_at=first.published_at, slug="budget", headline="The new budget story")
    assert newcomer.get_absolute_url() == address

    response = client.get(address)
    assert response.status_code == 200
    assert b"The new budget story" in response.content

    newcomer.delete()
    gone = make_article(days=-2, slug="gone")
    address = gone.get_absolute_url()
    gone.delete()
    assert client.get(address).status_code == 404
    replacement = make_article(slug="gone", published_at=gone.published_at)
    assert replacement.get_absolute_url() == address
    assert client.get(replacement.get_absolute_url()).status_code == 200


def test_an_old_address_at_another_date_goes_to_its_own_article_not_the_slugs_new_owner(client):
    first = make_article(days=-10, slug="election")
    old = first.get_absolute_url()
    current = moved(first, slug="election-2025")
    make_article(days=-1, slug="election", headline="This year's election")

    assert_redirects_permanently(client, old, current)


def test_only_live_articles_are_redirected_to(client):
    article = make_article(days=-1, slug="before")
    old = article.get_absolute_url()
    moved(article, slug="after")
    unpublish_articles(articles=[article], by=None)

    assert client.get(old).status_code == 404


def test_a_draft_that_never_went_live_leaves_no_old_addresses():
    draft = make_article(status=Article.Status.DRAFT, slug="working-title")
    moved(draft, slug="final-title", published_at=draft.published_at - timedelta(days=3))

    assert not ArticleRedirect.objects.exists()


def test_an_unknown_address_is_still_a_404(client):
    make_article(days=-1, slug="real")
    assert client.get("/2020/01/01/never-existed/").status_code == 404
    assert client.get("/2020/02/31/real/").status_code == 404


def test_old_addresses_survive_dumpdata_and_loaddata(client, tmp_path):
    article = make_article(days=-1, slug="before-the-move")
    old = article.get_absolute_url()
    current = moved(article, slug="after-the-move")
    dump = tmp_path / "redirects.json"

    call_command(
        "dumpdata",
        "articles.article",
        "articles.articleredirect",
        natural_foreign=True,
        natural_primary=True,
        output=dump,
    )
    rows = json.loads(dump.read_text())
    (redirect,) = [row for row in rows if row["model"] == "articles.articleredirect"]
    assert redirect["fields"]["article"] == ["after-the-move"] and "pk" not in redirect
    Article.objects.all().delete()
    assert not ArticleRedirect.objects.exists()

    call_command("loaddata", dump, verbosity=0)
    assert_redirects_permanently(client, old, current)
    # Loading twice updates in place (natural keys), no duplicate.
    for obj in serializers.deserialize("json", dump.read_text()):
        obj.save()
    assert ArticleRedirect.objects.count() == 1


def test_an_old_address_costs_queries_only_on_the_not_found_path(client, django_assert_num_queries):
    """Normal article pages run their pinned count (test_views); an old address: the miss, then the redirect."""
    article = make_article(days=-1, slug="before")
    old = article.get_absolute_url()
    moved(article, slug="after")

    with django_assert_num_queries(2):  # the article by slug (none), then the old address with its article
        assert client.get(old).status_code == 301


@pytest.mark.page_cache
def test_the_old_address_stops_being_served_from_the_cache_when_the_slug_changes(client):
    article = make_article(days=-1, slug="cached-before")
    old = article.get_absolute_url()
    assert client.get(old).status_code == 200
    assert keys.key("article", article.pk) in client.get(old)["xkey"].split()

    current = moved(article, slug="cached-after")

    assert_redirects_permanently(client, old, current)
    assert client.get(reverse("articles:home")).status_code == 200
