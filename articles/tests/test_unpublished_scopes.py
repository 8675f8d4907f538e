"""
What unpublished content reveals: nothing. A section, tag or author whose only
stories are drafts or scheduled answers 404 (pages and feeds) and stays out of
the menu and the search form until a story in it is published; cached pages
follow. A preview link dies for good once its story has been live.
"""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, PreviewLink
from articles.services import publish_articles, unpublish_articles

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT


def scope_urls(name, slug):
    return [reverse(f"articles:{name}{suffix}", kwargs={"slug": slug}) for suffix in ("", "-rss", "-atom")]


@pytest.fixture
def secret():
    """A draft and a scheduled story, alone in their section, tag and author."""
    section = make_section("Investigations", slug="investigations", description="Our secret project.")
    author = make_author("Deep Throat", slug="deep-throat", bio="A source.")
    draft = make_article(status=DRAFT, section=section, authors=[author], tags=["Embargo"], ready=True)
    scheduled = make_article(days=1, section=section, authors=[author], tags=["Embargo"])
    make_article(days=-2, headline="Public story")  # the site has news
    return {"section": section, "author": author, "draft": draft, "scheduled": scheduled}


def all_scope_urls():
    return [
        *scope_urls("section", "investigations"),
        *scope_urls("tag", "embargo"),
        *scope_urls("author", "deep-throat"),
    ]


def test_draft_only_scopes_are_404_until_a_story_is_published(client, secret):
    for url in all_scope_urls():
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"secret project" not in response.content and b"A source." not in response.content
    publish_articles(articles=[secret["draft"]], by=None)
    for url in all_scope_urls():
        assert client.get(url).status_code == 200, url


def test_draft_only_sections_and_tags_stay_out_of_the_menu_and_search_form(client, secret):
    for url in [reverse("articles:home"), reverse("articles:search") + "?q=story"]:
        content = client.get(url).content
        assert b"Investigations" not in content and b"Embargo" not in content, url
    publish_articles(articles=[secret["draft"]], by=None)
    assert b"Investigations" in client.get(reverse("articles:home")).content  # the menu
    content = client.get(reverse("articles:search") + "?q=story").content  # the menu and the form
    assert b"Investigations" in content and b"Embargo" in content


@pytest.mark.page_cache
def test_the_menu_follows_a_sections_first_and_last_story_in_cached_pages(client, secret):
    home = reverse("articles:home")
    public = Article.objects.get(headline="Public story").get_absolute_url()
    for url in (home, public):
        assert b"Investigations" not in client.get(url).content
        assert client.get(url).status_code == 200
    publish_articles(articles=[secret["draft"]], by=None)
    for url in (home, public):
        assert b"Investigations" in client.get(url).content, url
    unpublish_articles(articles=Article.objects.filter(section=secret["section"]), by=None)
    for url in (home, public):
        assert b"Investigations" not in client.get(url).content, url


def test_menu_change_is_only_for_a_sections_first_or_last_story(secret):
    from articles.caching import keys

    section = secret["section"]
    first = make_article(days=-1, section=section)
    before = keys.placement(first.pk)
    second = make_article(days=-1, section=section)
    assert keys.menu_changes(second.pk, None, keys.placement(second.pk)) is False  # the section was on the menu
    first_draft = keys.placement(first.pk).__class__(**{**before.__dict__, "is_live": False})
    assert keys.menu_changes(first.pk, first_draft, before) is False  # `second` keeps it there
    second.delete()
    assert keys.menu_changes(first.pk, first_draft, before) is True


@pytest.fixture
def link(secret):
    return PreviewLink.objects.create(article=secret["draft"])


def test_a_preview_link_stays_dead_once_its_story_has_been_live(client, secret, link):
    url = link.get_absolute_url()
    assert client.get(url).status_code == 200
    publish_articles(articles=[secret["draft"]], by=None)
    assert client.get(url).status_code == 302  # to the public page
    unpublish_articles(articles=[secret["draft"]], by=None)
    response = client.get(url)
    assert response.status_code == 410
    assert b"has been published" in response.content
    assert not PreviewLink.objects.active().filter(pk=link.pk).exists()


def test_a_scheduled_story_taken_back_before_its_time_keeps_its_preview_links(client, secret):
    scheduled = secret["scheduled"]
    link = PreviewLink.objects.create(article=scheduled)
    unpublish_articles(articles=[scheduled], by=None)
    assert client.get(link.get_absolute_url()).status_code == 200
    assert PreviewLink.objects.active().filter(pk=link.pk).exists()


def test_a_scheduled_story_that_went_live_without_a_save_kills_its_links(client, secret):
    scheduled = secret["scheduled"]
    link = PreviewLink.objects.create(article=scheduled)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        unpublish_articles(articles=[scheduled], by=None)
        assert client.get(link.get_absolute_url()).status_code == 410
