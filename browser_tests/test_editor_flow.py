"""An editor writes and publishes an article in the admin; a reader finds and reads it."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Article, Tag
from articles.tests.factories import make_article, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"
HEADLINE = "Mali’s farmers count the cost of the drought"
NEW_TAG = "Sahel drought"
ADMIN_SCREENSHOT = "/tmp/admin-form.png"
ARTICLE_SCREENSHOT = "/tmp/article.png"


@pytest.fixture
def newsroom():
    """An editor and three published articles, so the new one has neighbours."""
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    section = make_section("Africa", slug="africa")
    return {
        "oldest": make_article(headline="Floods in Niamey", days=-3, section=section),
        "older": make_article(headline="Harvest hopes in Ségou", days=-2, section=section, tags=["Mali"]),
        "newer": make_article(
            headline="Rains return to the Sahel", published_at=timezone.now() - timedelta(hours=1), section=section
        ),
    }


def assert_no_problems(problems, where):
    found = problems.take()
    assert not found, f"browser problems on {where}:\n" + "\n".join(found)


def log_in(page, problems):
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("editors")
    assert_no_problems(problems, "the admin login and index")


def add_tag(page, name, new=False):
    """Type a tag into the select2 tag widget and press Enter once select2 offers it."""
    page.locator(".field-tags .select2-container").click()
    search = page.locator(".field-tags .select2-search__field")
    search.press_sequentially(name, delay=20)
    # Enter picks the highlighted option: the existing tag from the autocomplete
    # endpoint, or, when none matches, the typed name offered as a new tag.
    highlighted = page.locator(".select2-results__option--highlighted")
    expect(highlighted).to_have_text(f"Create new tag “{name}”" if new else name)
    expect(page.locator(".select2-results__option.loading-results")).to_have_count(0)
    search.press("Enter")
    expect(page.locator(".field-tags .select2-selection__choice", has_text=name)).to_have_count(1)


def pick_section(page, name):
    """Choose a section in its select2 autocomplete."""
    page.locator(".field-section .select2-container").click()
    page.locator(".select2-search__field").last.press_sequentially(name, delay=20)
    expect(page.locator(".select2-results__option--highlighted")).to_have_text(name)
    page.locator(".select2-search__field").last.press("Enter")
    expect(page.locator(".field-section .select2-selection__rendered")).to_contain_text(name)


def test_editor_publishes_and_reader_navigates(open_page, newsroom):
    editor, problems = open_page()
    log_in(editor, problems)

    editor.goto("/admin/articles/article/add/")
    expect(editor.locator(".field-body .ProseMirror[contenteditable=true]")).to_be_visible()
    expect(editor.locator(".field-tags .select2-container")).to_be_visible()

    # The slug follows the headline as it is typed (the admin's prepopulate.js).
    editor.locator("#id_headline").press_sequentially(HEADLINE, delay=5)
    expect(editor.locator("#id_slug")).to_have_value("malis-farmers-count-the-cost-of-the-drought")
    editor.fill("#id_standfirst", "A second failed harvest in three years is emptying villages.")

    body = editor.locator(".field-body .ProseMirror[contenteditable=true]")
    body.click()
    editor.keyboard.type("Grain stores in Ségou are empty by March.")
    editor.keyboard.press("Enter")
    editor.keyboard.type("Aid agencies warn of a hungry summer.")
    expect(body.locator("p")).to_have_count(2)

    add_tag(editor, "Mali")
    add_tag(editor, NEW_TAG, new=True)

    pick_section(editor, "Africa")
    editor.fill("#id_credit", "Newsroom staff")
    # A back-dated publication: the time is chosen, so publishing keeps it.
    published = timezone.localtime() - timedelta(days=1)
    editor.fill("#id_published_at_0", published.strftime("%d/%m/%Y"))
    editor.fill("#id_published_at_1", published.strftime("%H:%M:%S"))
    editor.locator("#id_published_at_1").blur()
    assert_no_problems(problems, "the admin article form")
    editor.screenshot(path=ADMIN_SCREENSHOT, full_page=True)

    editor.locator("input[name=_publish]").last.click()
    expect(editor.locator(".messagelist .success")).to_contain_text(f"“{HEADLINE}” is live since")
    assert_no_problems(problems, "the published article's form")

    article = Article.objects.get(headline=HEADLINE)
    assert article.slug == "malis-farmers-count-the-cost-of-the-drought"
    assert article.is_live
    assert article.body == (
        "<p>Grain stores in Ségou are empty by March.</p><p>Aid agencies warn of a hungry summer.</p>"
    )
    assert sorted(article.tags.names()) == ["Mali", NEW_TAG]
    assert Tag.objects.filter(name__iexact="mali").count() == 1

    # A reader, with no session, finds it on the home page.
    reader, problems = open_page()
    reader.goto("/")
    expect(reader.locator("h1")).to_have_text("Latest news")
    reader.get_by_role("link", name=HEADLINE).click()
    expect(reader).to_have_url(re.compile(re.escape(article.get_absolute_url()) + "$"))
    expect(reader.locator("h1")).to_have_text(HEADLINE)
    expect(reader.locator(".article-body p")).to_have_count(2)
    expect(reader.locator(".article-tags a[rel=tag]")).to_have_text(["Mali", NEW_TAG])
    expect(reader.locator(".preview-banner")).to_have_count(0)
    reader.screenshot(path=ARTICLE_SCREENSHOT, full_page=True)
    assert_no_problems(problems, "the home page and the article page")

    reader.locator("a[rel=prev]").click()
    expect(reader).to_have_url(re.compile(re.escape(newsroom["older"].get_absolute_url()) + "$"))
    expect(reader.locator("h1")).to_have_text(newsroom["older"].headline)

    reader.locator("a[rel=next]").click()
    expect(reader).to_have_url(re.compile(re.escape(article.get_absolute_url()) + "$"))
    expect(reader.locator("h1")).to_have_text(HEADLINE)
    expect(reader.locator("a[rel=next]")).to_have_text(newsroom["newer"].headline)
    assert_no_problems(problems, "the neighbouring article pages")


def test_safe_publishing_from_draft_to_unpublished(open_page, newsroom):
    """
    Draft → the ready check lists what is missing → fixed → Publish → slug change
    (the old address answers 301) → correction → restore of an old revision (still
    live) → Unpublish with its confirmation page.
    """
    editor, problems = open_page()
    log_in(editor, problems)

    # A draft with only a headline and a body: Publish saves it and says what it lacks.
    editor.goto("/admin/articles/article/add/")
    expect(editor.locator("input[name=_publish]").last).to_have_value("Publish")
    expect(editor.locator("#id_published_at_helptext")).to_contain_text("Leave empty to publish at the moment")
    editor.locator("#id_headline").press_sequentially("Locusts reach Kayes", delay=5)
    editor.locator(".field-body .ProseMirror[contenteditable=true]").click()
    editor.keyboard.type("Swarms crossed the border overnight.")
    editor.locator("input[name=_publish]").last.click()
    expect(editor.locator(".messagelist .error")).to_have_text(
        "Draft saved. Not published: it still needs a standfirst, a section and a byline or a credit."
    )
    article = Article.objects.get(headline="Locusts reach Kayes")
    assert article.status == Article.Status.DRAFT
    change_url = f"/admin/articles/article/{article.pk}/change/"
    expect(editor).to_have_url(re.compile(re.escape(change_url) + "$"))
    assert_no_problems(problems, "the refused publication")

    # Fixed, then published: now, not at the time the draft was written.
    editor.fill("#id_standfirst", "Farmers in western Mali brace for a lost harvest.")
    pick_section(editor, "Africa")
    editor.fill("#id_credit", "Newsroom staff")
    before = timezone.now()
    editor.locator("input[name=_publish]").last.click()
    expect(editor.locator(".messagelist .success")).to_contain_text("“Locusts reach Kayes” is live since")
    article.refresh_from_db()
    assert article.is_live and article.published_at >= before - timedelta(seconds=1)
    expect(editor.locator("input[name=_continue]").last).to_have_value("Update")
    expect(editor.locator("input[name=_publish]")).to_have_count(0)
    first_address = article.get_absolute_url()
    assert_no_problems(problems, "the publication")

    # The slug changes; the old address answers a permanent redirect.
    editor.locator(".collapse summary, fieldset.collapse h2, .collapse-toggle").first.click()
    editor.fill("#id_slug", "locusts-reach-kayes-region")
    editor.locator("input[name=_continue]").last.click()
    expect(editor.locator(".messagelist .success")).to_contain_text("was changed successfully")
    article.refresh_from_db()
    new_address = article.get_absolute_url()
    assert new_address != first_address and article.published_at >= before - timedelta(seconds=1)
    reader, reader_problems = open_page()
    response = reader.request.get(first_address, max_redirects=0)
    assert (response.status, response.headers["location"]) == (301, new_address)
    reader.goto(first_address)
    expect(reader).to_have_url(re.compile(re.escape(new_address) + "$"))
    expect(reader.locator("h1")).to_have_text("Locusts reach Kayes")
    assert_no_problems(reader_problems, "the old address")

    # A correction, shown to readers; the publication time does not move.
    published_at = article.published_at
    editor.locator("#corrections-group .add-row a").click()
    editor.fill("#id_corrections-0-text", "An earlier version named the wrong region.")
    editor.locator("input[name=_continue]").last.click()
    expect(editor.locator(".messagelist .success")).to_contain_text("was changed successfully")
    article.refresh_from_db()
    assert article.published_at == published_at
    reader.goto(new_address)
    expect(reader.locator(".article-corrections")).to_contain_text("An earlier version named the wrong region.")

    # Restore the first revision (the draft as first saved): the story stays live at its address.
    editor.goto(f"/admin/articles/article/{article.pk}/history/")
    editor.locator(".revision-history tbody tr").last.get_by_role("link").first.click()
    expect(editor.locator(".restore-summary")).to_contain_text(f"It is live at {new_address}. That stays as it is")
    editor.get_by_role("button", name="Restore this revision").click()
    expect(editor.locator(".messagelist .error")).to_contain_text("Cannot restore: the article is published")
    assert_no_problems(problems, "a refused restore")
    # The revision of the publication (ready) can be restored; the slug stays the new one.
    editor.goto(f"/admin/articles/article/{article.pk}/history/")
    editor.locator(".revision-history tbody tr").nth(-2).get_by_role("link").first.click()
    expect(editor.locator(".restore-summary")).to_contain_text(f"It is live at {new_address}.")
    editor.get_by_role("button", name="Restore this revision").click()
    expect(editor.locator(".messagelist .success")).to_contain_text(f"Restored. It is live at {new_address}.")
    article.refresh_from_db()
    assert (article.is_live, article.slug, article.published_at) == (True, "locusts-reach-kayes-region", published_at)
    assert reader.goto(new_address).status == 200
    assert_no_problems(problems, "the restore")

    # Unpublish: a page says what readers will see, then the story is gone.
    editor.goto(change_url)
    editor.locator("a.unpublishlink").last.click()
    expect(editor.locator("#content-main")).to_contain_text("Readers will no longer see this live story")
    expect(editor.locator("#content-main")).to_contain_text(new_address)
    article.refresh_from_db()
    assert article.is_live
    editor.get_by_role("button", name="Yes, unpublish").click()
    expect(editor.locator(".messagelist .success")).to_have_text(
        "“Locusts reach Kayes” is back to draft: readers no longer see it."
    )
    expect(editor.locator("input[name=_publish]").last).to_have_value("Publish")
    assert reader.goto(new_address).status == 404
    reader_problems.take()  # the 404 is the point
    assert_no_problems(problems, "the unpublishing")
