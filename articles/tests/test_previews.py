"""
Shareable preview links: created and revoked from the admin, signed, expiring,
rendered as readers will see the article under a "Preview" banner, never
cached or indexed, and redirecting to the public page once the article is live.
"""

import importlib
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from articles.models import Article, Correction, PreviewLink
from articles.roles import EDITOR, REPORTER, ensure_roles
from articles.services import publish_articles

from .factories import make_article, make_author, make_section

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT
# The link, then the reader's article page (4: article; byline, tags and corrections;
# previous/next and related articles; the page header, section navigation and banner).
PREVIEW_LINK_QUERIES = 5


def make_user(username, *groups, **fields):
    user = User.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True, **fields)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def links_page(article):
    return reverse("admin:articles_article_preview_links", args=[article.pk])


def assert_private(response):
    cache_control = response.headers["Cache-Control"]
    for directive in ("no-store", "no-cache", "private", "max-age=0"):
        assert directive in cache_control, cache_control
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


@pytest.fixture
def editor(client):
    user = make_user("editor", EDITOR)
    client.force_login(user)
    return user


@pytest.fixture
def draft():
    return make_article(
        days=-1,
        status=DRAFT,
        headline="Embargoed investigation",
        standfirst="What the documents show.",
        body="<p>The secret findings.</p>",
        section=make_section("Africa"),
        authors=[make_author("Amara Diallo")],
        tags=["Mali"],
    )


@pytest.fixture
def scheduled():
    return make_article(days=2, headline="Tomorrow's story", body="<p>Scheduled words.</p>")


# Creating links in the admin.


def test_editor_sees_the_object_tool_on_drafts_and_scheduled_articles_only(client, editor, draft, scheduled):
    live = make_article(days=-1)
    for article, shown in [(draft, True), (scheduled, True), (live, False)]:
        response = client.get(reverse("admin:articles_article_change", args=[article.pk]))
        assert response.status_code == 200
        assert (links_page(article) in response.content.decode()) is shown, article


def test_editor_creates_a_link_that_expires_after_48_hours(client, editor, draft):
    assert settings.NEWSROOM_PREVIEW_HOURS == 48
    page = client.get(links_page(draft))
    assertContains(page, 'name="create"')
    assertContains(page, "No preview links yet.")

    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        response = client.post(links_page(draft), {"create": ""})

    assertRedirects(response, links_page(draft), fetch_redirect_response=False)
    link = PreviewLink.objects.get()
    assert (link.article, link.created_by) == (draft, editor)
    assert link.created_at == now
    assert link.expires_at == now + timedelta(hours=48)


def test_link_lifetime_follows_the_setting(client, editor, draft, settings):
    settings.NEWSROOM_PREVIEW_HOURS = 2
    client.post(links_page(draft), {"create": ""})
    link = PreviewLink.objects.get()
    assert link.expires_at - link.created_at == pytest.approx(timedelta(hours=2), abs=timedelta(seconds=5))
    assert link.is_active


def test_links_page_shows_the_full_url_with_a_copy_button(client, editor, draft):
    client.post(links_page(draft), {"create": ""})
    link = PreviewLink.objects.get()

    response = client.get(links_page(draft))

    url = f"http://testserver/preview/{link.signed_token}/"
    assertContains(response, f'value="{url}"')
    assertContains(response, f'data-copy-target="preview-link-{link.pk}"')
    assertContains(response, 'src="/static/js/copy-link.js"')
    assertContains(response, '<span class="badge badge-live">Active</span>')
    assertNotContains(response, "<script>")  # no inline script: the admin's CSP stays strict
    assert link.token not in url.replace(link.signed_token, "")  # the token only ever travels signed


def test_no_link_for_a_live_article(client, editor):
    live = make_article(days=-1)
    response = client.post(links_page(live), {"create": ""}, follow=True)
    assertContains(response, "This article is live: share its public address instead.")
    assert not PreviewLink.objects.exists()


def test_reporter_cannot_see_or_create_links(client, draft):
    client.force_login(make_user("reporter", REPORTER))
    assert client.get(links_page(draft)).status_code == 403
    assert client.post(links_page(draft), {"create": ""}).status_code == 403
    assert not PreviewLink.objects.exists()


def test_viewing_links_is_not_creating_them(client, draft):
    user = make_user("viewer")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_article", "change_article", "view_previewlink"])
    )
    client.force_login(user)
    page = client.get(links_page(draft))
    assert page.status_code == 200
    assertNotContains(page, 'name="create"')
    assert client.post(links_page(draft), {"create": ""}).status_code == 403
    assert not PreviewLink.objects.exists()


def test_links_page_for_a_missing_article_redirects_with_a_message(client, editor):
    response = client.get(reverse("admin:articles_article_preview_links", args=[999999]), follow=True)
    assert response.status_code == 200
    assertContains(response, "doesn’t exist")


# Reading a link.


def test_anyone_with_the_link_reads_the_draft_as_readers_will(client, draft):
    link = PreviewLink.objects.create(article=draft)

    response = client.get(link.get_absolute_url())

    assert response.status_code == 200
    assertContains(response, "<strong>Preview.</strong>")
    assertContains(response, '<h1 class="headline">Embargoed investigation</h1>')
    assertContains(response, "The secret findings.")
    assertContains(response, "Amara Diallo")
    assertContains(response, '<meta name="robots" content="noindex, nofollow">')
    assertNotContains(response, "Edit in the admin")
    assertNotContains(response, "application/ld+json")
    assert response.content.count(b"<h1") == 1
    assert_private(response)


def test_preview_links_never_say_published(client, draft, scheduled):
    """The dates line tells the truth: not "Published <date>" before the article is."""
    draft_page = client.get(PreviewLink.objects.create(article=draft).get_absolute_url())
    scheduled_page = client.get(PreviewLink.objects.create(article=scheduled).get_absolute_url())

    assertContains(draft_page, '<p class="dates">Not published</p>', html=True)
    assertNotContains(draft_page, "Published")
    when = scheduled.published_at.strftime("%Y-%m-%dT%H:%M:%S")
    assertContains(scheduled_page, f'Scheduled for <time datetime="{when}')
    assertNotContains(scheduled_page, "Published")


def test_preview_shows_no_corrections_until_published(client, draft):
    Correction.objects.create(article=draft, text="Never shown before publication.")
    link = PreviewLink.objects.create(article=draft)
    assertNotContains(client.get(link.get_absolute_url()), "Never shown before publication.")


def test_scheduled_article_preview_then_redirect_once_live(client, scheduled):
    link = PreviewLink.objects.create(article=scheduled)
    response = client.get(link.get_absolute_url())
    assertContains(response, "Scheduled words.")
    assert_private(response)

    with time_machine.travel(scheduled.published_at + timedelta(minutes=1)):
        response = client.get(link.get_absolute_url())
        assert response.status_code == 302
        assert response.headers["Location"] == scheduled.get_absolute_url()
        assert_private(response)
        assert client.get(response.headers["Location"]).status_code == 200


def test_published_draft_redirects_to_its_public_url(client, draft):
    link = PreviewLink.objects.create(article=draft)
    publish_articles(articles=Article.objects.filter(pk=draft.pk), by=None)
    draft.refresh_from_db()

    response = client.get(link.get_absolute_url())

    assertRedirects(response, draft.get_absolute_url(), status_code=302)


def test_expired_link_is_gone(client, draft):
    link = PreviewLink.objects.create(article=draft)
    assert client.get(link.get_absolute_url()).status_code == 200

    with time_machine.travel(link.expires_at + timedelta(seconds=1)):
        response = client.get(link.get_absolute_url())

    assert response.status_code == 410
    assertContains(response, "This preview link no longer works", status_code=410)
    assertContains(response, "expired on", status_code=410)
    assertContains(response, 'class="site-header"', status_code=410)
    assertNotContains(response, "The secret findings.", status_code=410)
    assertNotContains(response, "Embargoed investigation", status_code=410)
    assert_private(response)


def test_revoked_link_is_gone(client, editor, draft):
    link = PreviewLink.objects.create(article=draft)
    other = PreviewLink.objects.create(article=draft)

    response = client.post(links_page(draft), {"revoke": str(link.pk)}, follow=True)

    assertContains(response, "Preview link revoked")
    link.refresh_from_db()
    assert link.is_revoked
    client.logout()
    response = client.get(link.get_absolute_url())
    assert response.status_code == 410
    assertContains(response, "withdrawn", status_code=410)
    assertNotContains(response, "The secret findings.", status_code=410)
    assert client.get(other.get_absolute_url()).status_code == 200


def test_revoking_another_articles_link_from_this_page_does_nothing(client, editor, draft, scheduled):
    link = PreviewLink.objects.create(article=scheduled)
    response = client.post(links_page(draft), {"revoke": str(link.pk)}, follow=True)
    assertContains(response, "No such preview link.")
    response = client.post(links_page(draft), {"revoke": "not-a-number"}, follow=True)
    assertContains(response, "No such preview link.")
    link.refresh_from_db()
    assert not link.is_revoked


@pytest.mark.parametrize("change", ["signature", "token", "garbage", "unsigned"])
def test_tampered_links_are_not_found(client, draft, change):
    link = PreviewLink.objects.create(article=draft)
    token, signature = link.signed_token.rsplit(":", 1)
    flip = {"a": "b"}.get(signature[-1], "a")
    path = {
        "signature": f"/preview/{token}:{signature[:-1]}{flip}/",
        "token": f"/preview/{token[:-1]}{'x' if token[-1] != 'x' else 'y'}:{signature}/",
        "garbage": "/preview/not-a-link/",
        "unsigned": f"/preview/{link.token}/",
    }[change]

    response = client.get(path)

    assert response.status_code == 404
    assertContains(response, "Page not found", status_code=404)
    assertContains(response, 'class="site-header"', status_code=404)
    assertNotContains(response, "The secret findings.", status_code=404)


def test_a_genuine_signature_on_an_unknown_token_is_not_found(client):
    from django.core import signing

    signed = signing.Signer(salt=PreviewLink.signing_salt).sign("no-such-token")
    assert client.get(f"/preview/{signed}/").status_code == 404


def test_a_link_dies_with_its_article(client, draft):
    link = PreviewLink.objects.create(article=draft)
    draft.delete()
    assert client.get(link.get_absolute_url()).status_code == 404


def test_token_signing_round_trip():
    article = make_article(status=DRAFT)
    link = PreviewLink.objects.create(article=article)
    assert len(link.token) >= 43  # 32 random bytes
    assert PreviewLink.token_from_signed(link.signed_token) == link.token
    assert PreviewLink.objects.create(article=article).token != link.token


@pytest.mark.parametrize("size", [3, 30])
def test_preview_query_count_is_constant(client, django_assert_num_queries, draft, size):
    for i in range(size):
        make_article(days=-i - 2, tags=["Mali"], authors=[make_author()])
    link = PreviewLink.objects.create(article=draft)

    with django_assert_num_queries(PREVIEW_LINK_QUERIES):
        response = client.get(link.get_absolute_url())

    assert response.status_code == 200


# Listing and revoking every link.


def test_preview_link_admin_lists_and_revokes(client, editor, draft, scheduled):
    active = PreviewLink.objects.create(article=draft, created_by=editor)
    expired = PreviewLink.objects.create(article=scheduled, expires_at=timezone.now() - timedelta(hours=1))
    changelist = reverse("admin:articles_previewlink_changelist")

    response = client.get(changelist, {"state": "active"})
    assert list(response.context["cl"].result_list) == [active]
    response = client.get(changelist, {"state": "expired"})
    assert list(response.context["cl"].result_list) == [expired]
    assertNotContains(client.get(changelist), reverse("admin:articles_previewlink_add"))
    assert client.get(reverse("admin:articles_previewlink_add")).status_code == 403

    response = client.post(changelist, {"action": "revoke", "_selected_action": [active.pk, expired.pk]}, follow=True)

    assertContains(response, "2 preview links revoked.")
    assert all(link.is_revoked for link in PreviewLink.objects.all())
    assert list(client.get(changelist, {"state": "revoked"}).context["cl"].result_list) == [expired, active]


def test_editor_role_covers_preview_links_and_corrections():
    """What 0005_corrections_previews runs (on a fresh start: a transactional test may have emptied the tables)."""
    migration = importlib.import_module("articles.migrations.0005_corrections_previews").Migration
    assert any(getattr(op, "code", None) is ensure_roles for op in migration.operations)
    Group.objects.filter(name__in=[EDITOR, REPORTER]).delete()
    ensure_roles(apps)

    editors = Group.objects.get(name=EDITOR)
    codenames = set(editors.permissions.values_list("codename", flat=True))
    for model in ("previewlink", "correction"):
        assert {f"add_{model}", f"change_{model}", f"delete_{model}", f"view_{model}"} <= codenames
    reporters = set(Group.objects.get(name=REPORTER).permissions.values_list("codename", flat=True))
    assert not {codename for codename in reporters if codename.endswith(("previewlink", "correction"))}


# The setting.


@pytest.mark.parametrize(("value", "message"), [("abc", "whole number"), ("0", "at least 1")])
def test_preview_hours_setting_is_validated(value, message):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"DJANGO_SETTINGS_MODULE": "newsroom.settings", "NEWSROOM_PREVIEW_HOURS": value, "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert re.search(f"NEWSROOM_PREVIEW_HOURS must .*{message}", result.stderr)
