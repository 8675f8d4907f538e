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

    editor.select_option("#id_status", "published")
    published = timezone.localtime() - timedelta(days=1)
    editor.fill("#id_published_at_0", published.strftime("%d/%m/%Y"))
    editor.fill("#id_published_at_1", published.strftime("%H:%M:%S"))
    editor.locator("#id_published_at_1").blur()
    assert_no_problems(problems, "the admin article form")
    editor.screenshot(path=ADMIN_SCREENSHOT, full_page=True)

    editor.locator("input[name=_save]").last.click()
    expect(editor.locator(".messagelist .success")).to_contain_text(
        f"The article “{HEADLINE}” was added successfully."
    )
    assert_no_problems(problems, "the admin changelist")

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
