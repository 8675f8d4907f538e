"""
An editor adds a correction in the admin and a reader sees it on the article
page; an editor shares a preview link to a draft and someone without an
account reads it.
"""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from articles.models import Article, Correction, PreviewLink
from articles.tests.factories import make_article, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"
CORRECTION_TEXT = "An earlier version of this article said the helicopters arrived on Wednesday."


def assert_no_problems(problems, where):
    found = problems.take()
    assert not found, f"browser problems on {where}:\n" + "\n".join(found)


def log_in(page, problems):
    page.goto("/admin/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("editors")
    assert_no_problems(problems, "the admin login")


@pytest.fixture
def editor_account():
    return User.objects.create_superuser("editor", "editor@example.com", PASSWORD)


def test_a_correction_added_in_the_admin_appears_on_the_article_page(open_page, editor_account):
    article = make_article(
        days=-1,
        headline="Mali receives helicopters",
        section=make_section("Africa"),
        body="<p>The body.</p>",
        ready=True,  # a live story's update must keep what readers need
    )
    # Written when it was published, a day ago: the correction is what updates it.
    Article.objects.filter(pk=article.pk).update(created_at=article.published_at, updated_at=article.published_at)
    editor, problems = open_page()
    log_in(editor, problems)

    editor.goto(f"/admin/articles/article/{article.pk}/change/")
    editor.locator("#corrections-group .add-row a").click()
    editor.select_option("#id_corrections-0-kind", "correction")
    editor.fill("#id_corrections-0-text", CORRECTION_TEXT)
    assert_no_problems(problems, "the article form with a correction")
    editor.locator("input[name=_continue]").last.click()
    expect(editor.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert_no_problems(problems, "the saved article form")

    note = Correction.objects.get()
    assert (note.text, note.created_by) == (CORRECTION_TEXT, editor_account)

    reader, problems = open_page()
    reader.goto(article.get_absolute_url())
    corrections = reader.locator(".article-corrections")
    expect(corrections.locator("h2")).to_have_text("Corrections")
    expect(corrections.locator(".correction")).to_contain_text(CORRECTION_TEXT)
    expect(corrections.locator(".correction-label")).to_contain_text("Correction")
    expect(reader.locator(".byline .dates")).to_contain_text("Updated")
    reader.screenshot(path="/tmp/article-with-correction.png", full_page=True)
    assert_no_problems(problems, "the corrected article page")

    reader.get_by_role("link", name="All corrections").click()
    expect(reader.locator("h1")).to_have_text("Corrections")
    expect(reader.locator(".correction-list li")).to_have_count(1)
    expect(reader.get_by_role("link", name="Mali receives helicopters")).to_be_visible()
    assert_no_problems(problems, "the corrections page")


def test_an_editor_shares_a_preview_link_to_a_draft(open_page, editor_account):
    draft = make_article(days=-1, status=Article.Status.DRAFT, headline="Embargoed", body="<p>Secret words.</p>")
    editor, problems = open_page()
    editor.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(editor, problems)

    editor.goto(f"/admin/articles/article/{draft.pk}/change/")
    assert_no_problems(problems, "the draft's admin form")
    editor.get_by_role("link", name="Share a preview link").click()
    assert_no_problems(problems, "the preview links page")
    editor.get_by_role("button", name="Create a preview link").click()
    expect(editor.locator(".messagelist .success")).to_contain_text("Preview link created.")
    editor.get_by_role("button", name="Copy link").click()
    expect(editor.locator(".copy-status")).to_have_text("Copied")
    editor.screenshot(path="/tmp/preview-links.png", full_page=True)
    copied = editor.evaluate("navigator.clipboard.readText()")
    link = PreviewLink.objects.get()
    assert copied.endswith(link.get_absolute_url())
    assert_no_problems(problems, "the preview links page")

    outsider, problems = open_page()
    outsider.goto(copied)
    expect(outsider.locator(".preview-banner")).to_contain_text("Preview.")
    expect(outsider.locator("h1")).to_have_text("Embargoed")
    expect(outsider.locator(".article-body")).to_contain_text("Secret words.")
    outsider.screenshot(path="/tmp/preview-page.png", full_page=True)
    assert_no_problems(problems, "the preview page")

    editor.get_by_role("button", name="Revoke").click()
    expect(editor.locator(".messagelist .success")).to_contain_text("Preview link revoked")
    response = outsider.goto(copied)
    assert response.status == 410
    expect(outsider.locator("h1")).to_have_text("This preview link no longer works")
    problems.take()  # the 410 itself is the expected outcome
