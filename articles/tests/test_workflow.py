"""
The editorial workflow: roles and publishing rights on every way in, scheduling
display and visibility over time, revisions (diff and restore, with tags, byline
and related articles) and edit conflicts, sequential and truly concurrent.
"""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import reversion
import time_machine
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core import serializers
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from articles import revisions
from articles.admin.forms import ArticleAdminForm
from articles.models import Article, Author, Related, Tag
from articles.roles import ensure_roles
from articles.services import publish_articles, unpublish_articles

from . import factories
from .factories import make_author, make_section, member_of, relate


def make_article(**fields):
    """Ready for readers unless a test says otherwise: the form refuses to update a live story that is not."""
    return factories.make_article(**{"ready": True, **fields})


pytestmark = pytest.mark.django_db

ARTICLES = "/admin/articles/article/"


def change_url(article):
    return f"{ARTICLES}{article.pk}/change/"


def message_texts(response):
    return [str(message) for message in response.context["messages"]]


def login(client, user):
    client.force_login(user)
    return client


def form_data(client, url, **overrides):
    """What the admin form at `url` posts when saved untouched, with `overrides`."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for bound_field in form:
        value = bound_field.value()
        if bound_field.name == "published_at" and value:
            local = timezone.localtime(value) if not isinstance(value, str) else None
            if local is not None:
                data[f"{bound_field.html_name}_0"] = local.strftime("%Y-%m-%d")
                data[f"{bound_field.html_name}_1"] = local.strftime("%H:%M:%S.%f")
            continue
        if bound_field.name == "tags":
            data["tags"] = [str(getattr(tag, "name", tag)) for tag in value or []]
            continue
        if isinstance(value, str | int) and not isinstance(value, bool):
            data[bound_field.html_name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form.initial[name]
        for subform in formset.initial_forms:
            for bound_field in subform:
                value = bound_field.value()
                if value is not None and not isinstance(value, bool):
                    data[bound_field.html_name] = getattr(value, "pk", value)
    data["_save"] = "Save"
    data.update(overrides)
    return data


def new_article_data(client, **overrides):
    local = timezone.localtime() + timedelta(days=1)
    fields = {
        "headline": "Floods in the Sahel",
        "slug": "floods-in-the-sahel",
        "standfirst": "Rivers rose overnight.",
        "body": "<p>Rivers rose overnight.</p>",
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
    }
    return form_data(client, f"{ARTICLES}add/", **{**fields, **overrides})


# Roles -------------------------------------------------------------------------


def codenames(group):
    return set(Group.objects.get(name=group).permissions.values_list("codename", flat=True))


def test_the_migration_creates_the_two_groups():
    """What 0004_workflow runs (checked on a fresh start: a transactional test may have emptied the tables)."""
    import importlib

    migration = importlib.import_module("articles.migrations.0004_workflow").Migration
    assert any(getattr(op, "code", None) is ensure_roles for op in migration.operations)
    Group.objects.filter(name__in=["Reporter", "Editor"]).delete()
    ensure_roles(apps)

    reporter, editor = codenames("Reporter"), codenames("Editor")

    assert {"add_article", "change_article", "view_article", "add_image", "view_image"} <= reporter
    assert {"view_tag", "view_section", "view_author", "add_authorship", "add_related"} <= reporter
    assert not reporter & {"publish_article", "add_tag", "change_tag", "delete_tag", "change_section", "delete_image"}
    for model in ["article", "tag", "section", "author", "image", "authorship", "related", "articleredirect"]:
        assert {f"{action}_{model}" for action in ["add", "change", "delete", "view"]} <= editor
    assert "publish_article" in editor


def test_the_roles_can_be_granted_again_without_duplicates():
    """ensure_roles is what later migrations call when they add models the roles cover."""
    ensure_roles(apps)
    before = codenames("Editor")
    ensure_roles(apps)
    assert codenames("Editor") == before
    assert Group.objects.filter(name__in=["Reporter", "Editor"]).count() == 2


def test_a_reporter_drafts_an_article_stamped_as_theirs(reporter_client, reporter):
    response = reporter_client.post(f"{ARTICLES}add/", new_article_data(reporter_client, tags=["Sahel"]), follow=True)

    assert response.redirect_chain[-1] == (ARTICLES, 302)
    article = Article.objects.get(slug="floods-in-the-sahel")
    assert (article.status, article.created_by) == (Article.Status.DRAFT, reporter)
    # New tags come from the article form, without any right on tags themselves.
    assert [tag.name for tag in article.tags.all()] == ["Sahel"]


def test_a_reporter_is_offered_only_draft(reporter_client):
    response = reporter_client.get(f"{ARTICLES}add/")

    assert "status" not in response.context["adminform"].form.fields
    assertContains(response, '<input type="submit" value="Save draft" name="_continue" class="default">', html=True)
    assertNotContains(response, 'name="_publish"')
    # And no publishing actions on the list (tagging is changing: their own drafts only).
    response = reporter_client.get(ARTICLES)
    assert [name for name, _ in response.context["action_form"].fields["action"].choices if name] == [
        "delete_selected",
        "add_tag",
        "remove_tag",
    ]


@pytest.mark.parametrize("days", [-1, 2], ids=["publish", "schedule"])
def test_a_reporter_cannot_publish_or_schedule_a_new_article(reporter_client, days):
    local = timezone.localtime() + timedelta(days=days)
    data = new_article_data(
        reporter_client,
        _publish="Publish",
        published_at_0=local.strftime("%Y-%m-%d"),
        published_at_1=local.strftime("%H:%M:%S"),
    )

    response = reporter_client.post(f"{ARTICLES}add/", data)

    assert response.status_code == 403
    assert not Article.objects.exists()


def test_a_reporter_cannot_publish_their_own_draft(reporter_client, reporter):
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter, headline="Mine")

    for button in ["_publish", "_publish_now"]:
        data = form_data(reporter_client, change_url(draft), headline="Mine, published", **{button: "Publish"})
        assert reporter_client.post(change_url(draft), data).status_code == 403
    assert reporter_client.post(f"{ARTICLES}{draft.pk}/unpublish/").status_code == 403
    draft.refresh_from_db()
    assert (draft.status, draft.headline) == (Article.Status.DRAFT, "Mine")


def test_a_reporter_edits_their_own_draft(reporter_client, reporter):
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter, headline="Mine")

    response = reporter_client.post(
        change_url(draft), form_data(reporter_client, change_url(draft), headline="Mine, v2")
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.headline == "Mine, v2"


@pytest.mark.parametrize(
    "whose",
    ["someone else's draft", "their own article, published", "their own article, scheduled"],
)
def test_a_reporter_only_views_what_is_not_their_own_draft(reporter_client, reporter, whose):
    other = User.objects.create_user("other", is_staff=True)
    article = {
        "someone else's draft": lambda: make_article(status=Article.Status.DRAFT, created_by=other),
        "their own article, published": lambda: make_article(days=-1, created_by=reporter),
        "their own article, scheduled": lambda: make_article(days=2, created_by=reporter),
    }[whose]()
    before = (article.headline, article.status, article.published_at)

    page = reporter_client.get(change_url(article))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assertNotContains(page, 'name="_save"')

    # Posting anyway changes nothing, status and publication time included.
    later = timezone.localtime() + timedelta(days=5)
    response = reporter_client.post(
        change_url(article),
        {
            "headline": "Hijacked",
            "status": "draft",
            "published_at_0": later.strftime("%Y-%m-%d"),
            "published_at_1": "09:00:00",
        },
    )
    assert response.status_code == 403
    article.refresh_from_db()
    assert (article.headline, article.status, article.published_at) == before
    # Nor can they delete it, one by one or in bulk.
    assert reporter_client.post(f"{ARTICLES}{article.pk}/delete/", {"post": "yes"}).status_code == 403
    response = reporter_client.post(
        ARTICLES, {"action": "delete_selected", "_selected_action": [article.pk], "index": 0, "post": "yes"}
    )
    assert response.status_code == 403
    assert Article.objects.filter(pk=article.pk).exists()


def test_a_reporter_deletes_their_own_draft(reporter_client, reporter):
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter)

    response = reporter_client.post(f"{ARTICLES}{draft.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Article.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("action", ["publish_now", "unpublish"])
def test_a_reporter_cannot_use_the_publishing_actions(reporter_client, reporter, action):
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter)
    live = make_article(days=-1, created_by=reporter)
    before = {a.pk: (a.status, a.published_at, a.version) for a in (draft, live)}

    response = reporter_client.post(
        ARTICLES, {"action": action, "_selected_action": [draft.pk, live.pk], "index": 0}, follow=True
    )

    assert message_texts(response) == ["No action selected."]
    assert {a.pk: (a.status, a.published_at, a.version) for a in Article.objects.all()} == before


def test_there_are_no_bulk_edits_to_get_around_the_form(reporter_client, reporter):
    """The list has no editable columns: a forged list-edit post changes nothing."""
    from articles.admin import ArticleAdmin

    assert not ArticleAdmin.list_editable
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter)
    reporter_client.post(
        ARTICLES,
        {
            "_save": "Save",
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": draft.pk,
            "form-0-status": "published",
        },
    )
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_the_form_refuses_any_publishing_change_without_the_right():
    """Defence in depth: the form itself refuses, whatever the admin lets through."""
    live = make_article(days=-1)
    scheduled = make_article(days=2)

    class ReporterForm(ArticleAdminForm):
        may_publish = False

        class Meta(ArticleAdminForm.Meta):
            fields = ["headline", "slug", "published_at"]

    def post(article, **changes):
        local = timezone.localtime(article.published_at)
        data = {
            "headline": article.headline,
            "slug": article.slug,
            "published_at": local.strftime("%Y-%m-%d %H:%M:%S.%f"),
            **changes,
        }
        return ReporterForm(data, instance=article)

    assert post(live).is_valid()
    moved = post(scheduled, published_at="2030-01-01 09:00")
    assert not moved.is_valid()
    assert "Only editors can change the publication time" in str(moved.errors["published_at"])


def test_a_reporter_sees_their_own_drafts_first(reporter_client, reporter):
    make_article(headline="Newest, live", days=-1)
    make_article(headline="Someone's draft", status=Article.Status.DRAFT, days=-2)
    make_article(headline="My old draft", status=Article.Status.DRAFT, days=-30, created_by=reporter)
    make_article(headline="My draft", status=Article.Status.DRAFT, days=-3, created_by=reporter)

    response = reporter_client.get(ARTICLES)

    assert [a.headline for a in response.context["cl"].result_list] == [
        "My draft",
        "My old draft",
        "Newest, live",
        "Someone's draft",
    ]


def test_an_editor_publishes_schedules_unpublishes_and_deletes(editor_client):
    draft = make_article(status=Article.Status.DRAFT, headline="To publish")
    soon = timezone.localtime() + timedelta(hours=2)

    response = editor_client.post(
        change_url(draft),
        form_data(
            editor_client,
            change_url(draft),
            _publish="Schedule",
            published_at_0=soon.strftime("%Y-%m-%d"),
            published_at_1=soon.strftime("%H:%M:%S"),
        ),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_scheduled

    response = editor_client.post(
        ARTICLES, {"action": "publish_now", "_selected_action": [draft.pk], "index": 0, "post": "yes"}, follow=True
    )
    assert "1 article is now live." in message_texts(response)
    draft.refresh_from_db()
    assert draft.is_live

    response = editor_client.post(f"{ARTICLES}{draft.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Article.objects.exists()


def test_a_reporter_uses_the_autocompletes(reporter_client):
    make_section("Africa")
    for params in [
        {"app_label": "articles", "model_name": "article", "field_name": "section", "term": "Af"},
        {"app_label": "articles", "model_name": "authorship", "field_name": "author", "term": ""},
        {"app_label": "articles", "model_name": "article", "field_name": "tags", "term": ""},
    ]:
        assert reporter_client.get("/admin/autocomplete/", params).status_code == 200


# Scheduling --------------------------------------------------------------------

SCHEDULED_AT = datetime(2021, 10, 3, 7, 0, tzinfo=UTC)  # 09:00 in Paris


@pytest.fixture
def paris(settings):
    settings.TIME_ZONE = "Europe/Paris"


def test_the_list_shows_when_a_scheduled_article_goes_live(admin_client, paris):
    make_article(headline="Morning briefing", published_at=SCHEDULED_AT)

    with time_machine.travel(SCHEDULED_AT - timedelta(hours=2), tick=False):
        response = admin_client.get(ARTICLES)
        assertContains(
            response,
            '<span class="badge badge-scheduled">Scheduled for 3 Oct 2021, 09:00 (in 2\xa0hours)</span>',
            html=True,
        )
        assert [a.headline for a in admin_client.get(ARTICLES, {"state": "scheduled"}).context["cl"].result_list] == [
            "Morning briefing"
        ]
        assert not admin_client.get(ARTICLES, {"state": "live"}).context["cl"].result_list

    with time_machine.travel(SCHEDULED_AT + timedelta(minutes=1), tick=False):
        response = admin_client.get(ARTICLES)
        assertContains(response, '<span class="badge badge-live">Live</span>', html=True)
        assert not admin_client.get(ARTICLES, {"state": "scheduled"}).context["cl"].result_list
        assert [a.headline for a in admin_client.get(ARTICLES, {"state": "live"}).context["cl"].result_list] == [
            "Morning briefing"
        ]


def test_the_draft_filter(admin_client):
    make_article(headline="A draft", status=Article.Status.DRAFT, days=2)
    make_article(headline="Scheduled", days=2)

    response = admin_client.get(ARTICLES, {"state": "draft"})

    assert [a.headline for a in response.context["cl"].result_list] == ["A draft"]


def test_a_scheduled_article_appears_to_readers_by_itself(client, paris):
    """No cron: the same pages, asked again after the time, show it (nothing cached hides it)."""
    section = make_section("Africa", slug="africa")
    article = make_article(headline="Morning briefing", published_at=SCHEDULED_AT, section=section, tags=["Mali"])
    make_article(headline="Yesterday", published_at=SCHEDULED_AT - timedelta(days=1), section=section, tags=["Mali"])
    lists = ["/", "/section/africa/", "/tag/mali/", "/feed/rss/"]

    with time_machine.travel(SCHEDULED_AT - timedelta(minutes=1), tick=False):
        for url in lists:
            assertContains(client.get(url), "Yesterday")
            assertNotContains(client.get(url), "Morning briefing")
        assert client.get(article.get_absolute_url()).status_code == 404

    with time_machine.travel(SCHEDULED_AT + timedelta(seconds=1), tick=False):
        for url in lists:
            assertContains(client.get(url), "Morning briefing")
        assertContains(client.get(article.get_absolute_url()), "Morning briefing")


# Revisions ---------------------------------------------------------------------


def article_versions(article):
    return list(revisions.versions_for(article.pk).order_by("pk"))


@pytest.fixture
def story(editor):
    """An article with a byline, tags and a related article, and one revision of it."""
    ana, bo = make_author("Ana"), make_author("Bo")
    other = make_article(headline="Background piece")
    article = make_article(headline="First headline", tags=["Mali", "Army"], authors=[ana])
    relate(article, other)
    with reversion.create_revision():
        reversion.add_to_revision(article)
        reversion.set_user(editor)
    article.bo = bo
    return article


def test_each_admin_save_keeps_a_revision_with_tags_byline_and_related(editor_client, editor, story):
    url = change_url(story)
    data = form_data(
        editor_client,
        url,
        headline="Second headline",
        tags=["Mali", "Russia"],
        **{"authorships-0-author": story.bo.pk},
    )

    response = editor_client.post(url, data)

    assert response.status_code == 302
    first, second = article_versions(story)
    assert second.revision.user == editor
    state = revisions.state_from_version(second)
    assert state.fields["headline"] == "Second headline"
    assert state.byline == [story.bo.pk]
    assert sorted(Tag.objects.get(pk=pk).name for pk in state.tags) == ["Mali", "Russia"]
    assert state.related == [Related.objects.get(article=story).related_article_id]
    # The first revision still holds the old tags and byline.
    old = revisions.state_from_version(first)
    assert sorted(Tag.objects.get(pk=pk).name for pk in old.tags) == ["Army", "Mali"]
    assert old.byline == [Author.objects.get(name="Ana").pk]


def test_the_history_compares_any_two_revisions(editor_client, story):
    url = change_url(story)
    editor_client.post(url, form_data(editor_client, url, headline="Second headline", tags=["Mali", "Russia"]))
    first, second = article_versions(story)

    history = editor_client.get(f"{ARTICLES}{story.pk}/history/")
    assert [row["version"] for row in history.context["rows"]] == [second, first]
    assert "Headline" in history.context["rows"][0]["changed"]
    assertContains(history, "Compare selected revisions")

    response = editor_client.get(f"{ARTICLES}{story.pk}/history/compare/", {"from": first.pk, "to": second.pk})

    assert response.status_code == 200
    changes = {change.label: change for change in response.context["changes"]}
    assert set(changes) == {"Headline", "Tags"}
    assert changes["Tags"].old == "Army, Mali" and changes["Tags"].new == "Mali, Russia"
    assertContains(response, "<del>First</del>", html=True)
    assertContains(response, "<ins>Second</ins>", html=True)


@pytest.mark.parametrize("params", [{"from": "x"}, {"from": "999999"}, {"to": "1; drop"}])
def test_the_comparison_refuses_bad_revisions(editor_client, story, params):
    assert editor_client.get(f"{ARTICLES}{story.pk}/history/compare/", params).status_code == 404


def test_an_editor_restores_a_revision_as_a_new_revision(editor_client, editor, story):
    url = change_url(story)
    related_before = list(Related.objects.filter(article=story).values_list("related_article_id", flat=True))
    data = form_data(
        editor_client,
        url,
        headline="Second headline",
        tags=["Russia"],
        **{"authorships-0-author": story.bo.pk, "related_links-0-DELETE": "on"},
    )
    assert editor_client.post(url, data).status_code == 302
    story.refresh_from_db()
    assert not Related.objects.filter(article=story).exists()
    version_before = story.version
    first = article_versions(story)[0]

    page = editor_client.get(f"{ARTICLES}{story.pk}/history/{first.pk}/")
    assertContains(page, "Restore this revision")
    response = editor_client.post(f"{ARTICLES}{story.pk}/history/{first.pk}/", follow=True)

    assert response.redirect_chain[-1][0] == url
    story.refresh_from_db()
    assert story.headline == "First headline"
    assert sorted(tag.name for tag in story.tags.all()) == ["Army", "Mali"]
    assert [author.name for author in story.byline] == ["Ana"]
    assert list(Related.objects.filter(article=story).values_list("related_article_id", flat=True)) == related_before
    assert story.version == version_before + 1
    latest = article_versions(story)[-1]
    assert latest.revision.user == editor
    assert latest.revision.comment.startswith("Restored the version of")
    assert len(article_versions(story)) == 3


def test_a_restore_leaves_out_what_was_deleted_since(editor_client, story):
    first = article_versions(story)[0]
    Tag.objects.get(name="Army").delete()

    response = editor_client.post(f"{ARTICLES}{story.pk}/history/{first.pk}/", follow=True)

    assert [tag.name for tag in story.tags.all()] == ["Mali"]
    assert any("Not restored" in text for text in message_texts(response))


def test_a_restore_that_cannot_be_done_changes_nothing(editor_client, story):
    """Its address, asked back, is now another article's: a clear message, and the article stays as it is."""
    first = article_versions(story)[0]
    old_slug = story.slug
    story.slug, story.headline = "moved", "Moved"
    story.save()
    make_article(slug=old_slug, headline="Squatter")

    response = editor_client.post(
        f"{ARTICLES}{story.pk}/history/{first.pk}/", {"with_publication": "yes"}, follow=True
    )

    assert f"Cannot restore: another article now has its address “{old_slug}”." in message_texts(response)
    story.refresh_from_db()
    assert (story.slug, story.headline) == ("moved", "Moved")
    assert sorted(tag.name for tag in story.tags.all()) == ["Army", "Mali"]
    assert len(article_versions(story)) == 1


def test_who_wrote_it_first_survives_a_restore_and_stays_out_of_fixtures(editor_client, reporter):
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter, headline="Mine")
    with reversion.create_revision():
        reversion.add_to_revision(draft)
    (version,) = article_versions(draft)

    assert editor_client.post(f"{ARTICLES}{draft.pk}/history/{version.pk}/").status_code == 302

    draft.refresh_from_db()
    assert draft.created_by == reporter
    # What dumpdata writes for it.
    dumped = serializers.serialize("json", [draft], use_natural_foreign_keys=True, use_natural_primary_keys=True)
    assert '"version"' in dumped and "created_by" not in dumped


def test_a_reporter_reads_the_history_but_cannot_restore(reporter_client, reporter):
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter, headline="Mine")
    with reversion.create_revision():
        reversion.add_to_revision(draft)
    version = article_versions(draft)[0]

    assert reporter_client.get(f"{ARTICLES}{draft.pk}/history/").status_code == 200
    page = reporter_client.get(f"{ARTICLES}{draft.pk}/history/{version.pk}/")
    assert page.status_code == 200
    assertNotContains(page, "Restore this revision")
    assert reporter_client.post(f"{ARTICLES}{draft.pk}/history/{version.pk}/").status_code == 403


def test_a_save_without_changes_is_a_revision_saying_so(editor_client):
    """The revision's comment is the admin's change message (VersionAdmin)."""
    article = make_article(published_at=datetime(2021, 10, 1, 9, 0, tzinfo=UTC))
    url = change_url(article)
    data = form_data(editor_client, url)
    # The publication time's default is callable: the form compares it with its hidden initial value.
    data.update({f"initial-{key}": data[key] for key in ("published_at_0", "published_at_1")})
    assert editor_client.post(url, data).status_code == 302
    assert article_versions(article)[-1].revision.comment == "No fields changed."


def test_an_editor_recovers_a_deleted_article(editor_client):
    editor_client.post(f"{ARTICLES}add/", new_article_data(editor_client, tags=["Sahel"]))
    article = Article.objects.get(slug="floods-in-the-sahel")
    editor_client.post(f"{ARTICLES}{article.pk}/delete/", {"post": "yes"})
    assert not Article.objects.filter(pk=article.pk).exists()

    assertContains(editor_client.get(ARTICLES), "Recover deleted articles")
    (version,) = editor_client.get(f"{ARTICLES}recover/").context["deleted"]
    recover_url = f"{ARTICLES}recover/{version.pk}/"
    response = editor_client.post(recover_url, form_data(editor_client, recover_url))

    assert response.status_code == 302
    recovered = Article.objects.get(pk=article.pk)
    assert (recovered.headline, list(recovered.tags.names())) == ("Floods in the Sahel", ["Sahel"])
    assert article_versions(recovered)[-1].revision.comment.startswith("Reverted to previous version")


def test_a_reporter_cannot_recover_deleted_articles(reporter_client, reporter):
    """A deleted article may come back published: recovering is for editors."""
    draft = make_article(status=Article.Status.DRAFT, created_by=reporter)
    with reversion.create_revision():
        reversion.add_to_revision(draft)
    (version,) = article_versions(draft)
    draft.delete()

    assertNotContains(reporter_client.get(ARTICLES), "Recover deleted articles")
    assert reporter_client.get(f"{ARTICLES}recover/").status_code == 403
    assert reporter_client.get(f"{ARTICLES}recover/{version.pk}/").status_code == 403
    assert reporter_client.post(f"{ARTICLES}recover/{version.pk}/").status_code == 403
    assert not Article.objects.exists()


def test_list_actions_keep_a_revision_per_article(editor_client, editor):
    drafts = [make_article(status=Article.Status.DRAFT) for _ in range(2)]

    editor_client.post(ARTICLES, {"action": "publish_now", "_selected_action": [a.pk for a in drafts], "index": 0})

    for draft in drafts:
        (version,) = article_versions(draft)
        assert version.revision.user == editor
        assert version.revision.version_set.count() == 1
        assert revisions.state_from_version(version).fields["status"] == "published"


def test_saves_outside_the_admin_work_and_are_recorded_when_next_opened(admin_client, tmp_path):
    article = make_article(headline="From the shell")
    article.headline = "Edited in the shell"
    article.save()
    fixture = tmp_path / "loaded.json"
    fixture.write_text(
        '[{"model": "articles.article", "fields": {"headline": "Loaded", "slug": "loaded", "status": "draft",'
        ' "published_at": "2021-10-01T09:00:00Z", "created_at": "2021-10-01T09:00:00Z",'
        ' "updated_at": "2021-10-01T09:00:00Z", "version": 7}}]'
    )
    call_command("loaddata", str(fixture), verbosity=0)
    assert not Version.objects.exists()
    loaded = Article.objects.get(slug="loaded")
    assert loaded.version == 7

    for outside in (article, loaded):
        admin_client.get(change_url(outside))
        (version,) = article_versions(outside)
        assert revisions.state_from_version(version).fields["headline"] == outside.headline
        assert revisions.version_number(version) == outside.version
        assert version.revision.comment == "Saved outside the admin (recorded when next opened)."
        # Opening it again records nothing new.
        admin_client.get(change_url(outside))
        assert len(article_versions(outside)) == 1


# Edit conflicts ----------------------------------------------------------------


def test_every_save_and_publishing_change_bumps_the_version():
    article = make_article(status=Article.Status.DRAFT)
    assert article.version == 0
    article.save()
    assert article.version == 1
    article.save(update_fields=["headline"])
    assert article.version == 2
    publish_articles(articles=Article.objects.filter(pk=article.pk), by=None)
    unpublish_articles(articles=Article.objects.filter(pk=article.pk), by=None)
    article.refresh_from_db()
    assert article.version == 4


def test_the_second_save_gets_a_conflict_and_keeps_its_text(client, django_user_model, editor):
    second_editor = member_of("Editor", "sam")
    article = make_article(headline="Original headline", body="<p>Original body.</p>")
    first = login(client.__class__(), editor)
    second = login(client.__class__(), second_editor)
    url = change_url(article)
    first_data = form_data(first, url, headline="First editor's headline")
    second_data = form_data(second, url, body="<p>Second editor's careful paragraph.</p>")

    assert first.post(url, first_data).status_code == 302
    response = second.post(url, second_data)

    assert response.status_code == 200
    assertContains(response, "Edit conflict: nothing was saved.")
    assertContains(response, "eddie")  # who saved in between
    assert [change.label for change in response.context["adminform"].form.conflict["changes"]] == ["Headline"]
    assertContains(response, "<del>Original</del><ins>First editor&#x27;s</ins><span> headline</span>", html=True)
    # The second editor's text is still in the form.
    assertContains(response, "Second editor&#x27;s careful paragraph.")
    article.refresh_from_db()
    assert article.headline == "First editor's headline"
    assert article.body == "<p>Original body.</p>"

    # Having seen the changes, they merge and save: that goes through.
    merged = {
        **second_data,
        "headline": "First editor's headline",
        "version": response.context["adminform"].form["version"].value(),
    }
    assert second.post(url, merged).status_code == 302
    article.refresh_from_db()
    assert (article.headline, article.body) == (
        "First editor's headline",
        "<p>Second editor's careful paragraph.</p>",
    )


def test_a_publishing_action_in_between_is_a_conflict_too(editor_client):
    article = make_article(status=Article.Status.DRAFT)
    url = change_url(article)
    data = form_data(editor_client, url, headline="Edited")

    editor_client.post(ARTICLES, {"action": "publish_now", "_selected_action": [article.pk], "index": 0})
    response = editor_client.post(url, data)

    assert response.status_code == 200
    assertContains(response, "Edit conflict")
    changes = [change.label for change in response.context["adminform"].form.conflict["changes"]]
    assert changes == ["Status", "Publication time"]
    article.refresh_from_db()
    assert article.headline != "Edited" and article.status == Article.Status.PUBLISHED


@pytest.mark.django_db(transaction=True)
def test_two_truly_concurrent_saves_do_not_overwrite_each_other(client, monkeypatch):
    """
    The first request locks the article's row (SELECT ... FOR UPDATE) and
    pauses before saving; the second is sent meanwhile, waits for the lock,
    then sees the first one's version and gets the conflict.
    """
    editor, second_editor = member_of("Editor", "eddie"), member_of("Editor", "sam")
    article = make_article(headline="Original headline")
    url = change_url(article)
    first = login(client.__class__(), editor)
    second = login(client.__class__(), second_editor)
    first_data = form_data(first, url, headline="First")
    second_data = form_data(second, url, headline="Second")

    holding = threading.Event()
    check_version = ArticleAdminForm.check_version

    def slow_check_version(form, loaded):
        try:
            check_version(form, loaded)
        finally:
            if threading.current_thread().name == "first":
                holding.set()
                time.sleep(0.5)

    monkeypatch.setattr(ArticleAdminForm, "check_version", slow_check_version)
    responses = {}

    def save(name, browser, data):
        try:
            responses[name] = browser.post(url, data)
        finally:
            connection.close()

    first_thread = threading.Thread(target=save, name="first", args=("first", first, first_data))
    first_thread.start()
    assert holding.wait(10)
    second_thread = threading.Thread(target=save, name="second", args=("second", second, second_data))
    second_thread.start()
    first_thread.join(20)
    second_thread.join(20)

    assert responses["first"].status_code == 302
    assert responses["second"].status_code == 200
    assertContains(responses["second"], "Edit conflict: nothing was saved.")
    article.refresh_from_db()
    assert (article.headline, article.version) == ("First", 1)
