"""
Safe publishing in the admin: the article form's buttons, the publication-time
rule, the ready check, the unpublish confirmation and restores that leave a
live story live.
"""

from datetime import timedelta

import pytest
import reversion
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles import revisions
from articles.models import Article, Correction

from .factories import make_article, make_author, make_section, member_of
from .test_workflow import article_versions, change_url, form_data, login, message_texts

pytestmark = pytest.mark.django_db

DRAFT = Article.Status.DRAFT


def press(client, article, button, **changes):
    """Post the article's form as it is, with `changes`, pressing `button` (its name)."""
    data = form_data(client, change_url(article), **changes)
    data.pop("_save")
    data[button] = "pressed"
    return client.post(change_url(article), data, follow=True)


def time_fields(moment):
    local = timezone.localtime(moment)
    return {"published_at_0": local.strftime("%Y-%m-%d"), "published_at_1": local.strftime("%H:%M:%S")}


def buttons(response):
    page = response.content.decode()
    names = ["_publish", "_publish_now", "_continue", "unpublishlink"]
    return [name for name in names if f'name="{name}"' in page or f'class="{name}"' in page]


# The publication-time rule ------------------------------------------------------------------


def test_a_draft_written_weeks_ago_goes_live_now_not_under_its_old_date(editor_client):
    draft = make_article(days=-21, status=DRAFT, ready=True)
    page = editor_client.get(change_url(draft))
    assert page.context["adminform"].form["published_at"].value() is None
    assertContains(page, "Leave empty to publish at the moment you press Publish.")

    before = timezone.now()
    response = press(editor_client, draft, "_publish")

    draft.refresh_from_db()
    assert draft.is_live and draft.published_at >= before
    assert response.redirect_chain == [(change_url(draft), 302)]
    assert message_texts(response)[0].startswith(f"“{draft.headline}” is live since ")
    assert list(Article.objects.published().newest_first())[0] == draft


def test_a_chosen_time_schedules_or_back_dates(editor_client):
    draft, archive = make_article(status=DRAFT, ready=True), make_article(status=DRAFT, ready=True)
    tomorrow = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    last_year = (timezone.now() - timedelta(days=365)).replace(microsecond=0)

    # Saved as a draft first: the form shows the chosen time again, and the button says Schedule.
    press(editor_client, draft, "_continue", **time_fields(tomorrow))
    draft.refresh_from_db()
    assert (draft.status, draft.publication_time_chosen, draft.published_at) == (DRAFT, True, tomorrow)
    page = editor_client.get(change_url(draft))
    assertContains(page, '<input type="submit" value="Schedule" class="default" name="_publish">', html=True)

    response = press(editor_client, draft, "_publish")
    draft.refresh_from_db()
    assert draft.is_scheduled and draft.published_at == tomorrow
    assert "Scheduled for" in message_texts(response)[0]

    press(editor_client, archive, "_publish", **time_fields(last_year))
    archive.refresh_from_db()
    assert archive.is_live and archive.published_at == last_year


def test_publishing_a_live_story_again_never_moves_it_and_corrections_keep_their_order(editor_client):
    live = make_article(days=-2, ready=True)
    first = Correction.objects.create(article=live, text="First note.", created_at=timezone.now() - timedelta(days=1))
    second = Correction.objects.create(article=live, text="Second note.")
    since = live.published_at

    assert buttons(editor_client.get(change_url(live))) == ["_continue", "unpublishlink"]
    for button in ["_publish", "_publish_now", "_continue"]:
        press(editor_client, live, button)
        live.refresh_from_db()
        assert (live.is_live, live.published_at) == (True, since), button
    assert list(live.corrections.order_by("created_at")) == [first, second]
    assert all(note.created_at > live.published_at for note in (first, second))


def test_publish_now_on_a_scheduled_story(editor_client):
    scheduled = make_article(days=2, ready=True)
    assert buttons(editor_client.get(change_url(scheduled))) == ["_publish_now", "_continue", "unpublishlink"]

    press(editor_client, scheduled, "_publish_now")

    scheduled.refresh_from_db()
    assert scheduled.is_live and scheduled.published_at <= timezone.now()


def test_a_draft_offers_publish_and_save_draft(editor_client):
    draft = make_article(status=DRAFT)
    assert buttons(editor_client.get(change_url(draft))) == ["_publish", "_continue"]
    page = editor_client.get("/admin/articles/article/add/")
    assertContains(page, '<input type="submit" value="Publish" class="default" name="_publish">', html=True)
    assertContains(page, '<input type="submit" value="Save draft" name="_continue">', html=True)


# The ready check ----------------------------------------------------------------------------


def test_an_empty_article_cannot_go_live_but_the_draft_is_saved(editor_client):
    draft = make_article(status=DRAFT, headline="Working title")

    response = press(editor_client, draft, "_publish", headline="Storm warning", body="<p></p>")

    draft.refresh_from_db()
    assert draft.status == DRAFT and draft.headline == "Storm warning"
    assert message_texts(response) == [
        "Draft saved. Not published: it still needs a standfirst, a body with text, a section "
        "and a byline or a credit."
    ]
    assert response.redirect_chain == [(change_url(draft), 302)]


def test_the_byline_typed_in_the_same_save_counts(editor_client):
    draft = make_article(status=DRAFT, standfirst="Why it matters.", section=make_section())
    author = make_author("Ana")
    changes = {
        "authorships-TOTAL_FORMS": "1",
        "authorships-0-author": author.pk,
        "authorships-0-position": "0",
    }

    press(editor_client, draft, "_publish", **changes)

    draft.refresh_from_db()
    assert draft.is_live and [a.name for a in draft.byline] == ["Ana"]


def test_an_update_cannot_strip_a_live_story_of_what_readers_need(editor_client):
    author = make_author("Ana")
    live = make_article(days=-1, ready=True, credit="", authors=[author], headline="Live story")
    before = (live.headline, live.standfirst, live.version)

    response = press(editor_client, live, "_continue", headline="Edited", standfirst="")
    assert response.status_code == 200
    assertContains(response, "a published article cannot lose what readers need; it still needs a standfirst.")

    response = press(editor_client, live, "_continue", headline="Edited", **{"authorships-0-DELETE": "on"})
    assertContains(response, "still needs a byline or a credit.")

    live.refresh_from_db()
    assert (live.headline, live.standfirst, live.version) == before
    assert live.authorships.count() == 1


# Unpublishing -------------------------------------------------------------------------------


def test_unpublish_asks_first_and_says_what_readers_will_see(editor_client, client):
    live = make_article(days=-1, ready=True)
    url = live.get_absolute_url()
    unpublish_url = f"/admin/articles/article/{live.pk}/unpublish/"

    page = editor_client.get(unpublish_url)
    assertContains(page, "Readers will no longer see this live story")
    assertContains(page, "page not found")
    assertContains(page, url)
    live.refresh_from_db()
    assert live.is_live

    response = editor_client.post(unpublish_url, follow=True)
    assert message_texts(response) == [f"“{live.headline}” is back to draft: readers no longer see it."]
    live.refresh_from_db()
    assert live.status == DRAFT
    editor_client.logout()
    assert client.get(url).status_code == 404


def test_unpublishing_needs_the_publish_right(client):
    live = make_article(days=-1)
    login(client, member_of("Reporter", "rita"))
    assert client.post(f"/admin/articles/article/{live.pk}/unpublish/").status_code == 403
    live.refresh_from_db()
    assert live.is_live


# Restoring a revision -----------------------------------------------------------------------


def test_restoring_an_old_revision_keeps_a_live_story_live_at_its_address(editor_client, editor):
    story = make_article(status=DRAFT, ready=True, headline="First draft", slug="first-draft")
    with reversion.create_revision():
        reversion.add_to_revision(story)
    press(editor_client, story, "_publish", headline="Published headline", slug="published-headline")
    story.refresh_from_db()
    address, since = story.get_absolute_url(), story.published_at
    first = article_versions(story)[0]

    page = editor_client.get(f"/admin/articles/article/{story.pk}/history/{first.pk}/")
    assertContains(page, "Restoring puts back this revision's headline.")
    assertContains(page, f"It is live at {address}. That stays as it is unless you tick the box below.")
    assertContains(page, 'name="with_publication"')

    editor_client.post(f"/admin/articles/article/{story.pk}/history/{first.pk}/")

    story.refresh_from_db()
    assert story.headline == "First draft"
    assert (story.is_live, story.slug, story.published_at) == (True, "published-headline", since)
    assert editor_client.get(address).status_code == 200


def test_restoring_with_its_publication_puts_status_and_address_back(editor_client, client):
    story = make_article(days=-1, ready=True, slug="old-address")
    with reversion.create_revision():
        reversion.add_to_revision(story)
    old = story.get_absolute_url()
    press(editor_client, story, "_continue", slug="new-address")
    story.refresh_from_db()
    new = story.get_absolute_url()
    first = article_versions(story)[0]

    editor_client.post(f"/admin/articles/article/{story.pk}/history/{first.pk}/", {"with_publication": "yes"})

    story.refresh_from_db()
    assert story.slug == "old-address" and story.is_live
    editor_client.logout()
    response = client.get(new)
    assert (response.status_code, response["Location"]) == (301, old)


def test_a_restore_keeps_a_revision_of_what_it_replaced(editor_client):
    story = make_article(days=-1, ready=True, headline="Original")
    with reversion.create_revision():
        reversion.add_to_revision(story)
    first = article_versions(story)[0]
    story.headline = "Changed in the shell"
    story.save()

    editor_client.post(f"/admin/articles/article/{story.pk}/history/{first.pk}/")

    states = [revisions.state_from_version(version).fields["headline"] for version in article_versions(story)]
    assert states == ["Original", "Changed in the shell", "Original"]


def test_a_restore_that_would_leave_a_live_story_unready_changes_nothing(editor_client):
    story = make_article(days=-1, headline="Bare", credit="Staff", section=make_section())
    with reversion.create_revision():
        reversion.add_to_revision(story)  # no standfirst yet
    Article.objects.filter(pk=story.pk).update(standfirst="Added before it went live.")
    first = article_versions(story)[0]

    response = editor_client.post(f"/admin/articles/article/{story.pk}/history/{first.pk}/", follow=True)

    assert message_texts(response) == [
        "Cannot restore: the article is published, and this revision lacks a standfirst. Nothing changed."
    ]
    story.refresh_from_db()
    assert story.standfirst == "Added before it went live."
    assertNotContains(response, "Restored.")
