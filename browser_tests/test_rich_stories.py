"""
Embeds load nothing from the provider until the reader asks, then the frame
passes the Content Security Policy; an update an editor posts on a live page
reaches a reader who keeps the page open, with every cache on.
"""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from articles.models import LiveUpdate
from articles.tests.factories import make_article, make_author

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"
VIDEO = "https://www.youtube.com/watch?v=aqz-KE-bpKQ"


def assert_no_problems(problems, where):
    found = problems.take()
    assert not found, f"browser problems on {where}:\n" + "\n".join(found)


def test_an_embed_loads_from_the_provider_only_when_the_reader_asks(open_page, live_server):
    article = make_article(body=f'<p>Before.</p><p><a href="{VIDEO}">Watch: the launch</a></p>')
    reader, problems = open_page()
    outside = []
    reader.context.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: (
            outside.append(route.request.url),
            route.fulfill(body="<p>The provider's player</p>", content_type="text/html"),
        ),
    )

    reader.goto(article.get_absolute_url())
    button = reader.get_by_role("button", name="Show the video here")
    expect(button).to_be_visible()
    expect(reader.locator(".embed-title")).to_have_text("Watch: the launch")
    reader.wait_for_load_state("networkidle")
    assert outside == [], "the page reached a third party before the reader asked"

    button.click()

    frame = reader.locator(".embed iframe")
    expect(frame).to_have_attribute("src", "https://www.youtube-nocookie.com/embed/aqz-KE-bpKQ")
    expect(frame).to_have_attribute("title", "Watch: the launch")
    expect(reader.frame_locator(".embed iframe").locator("p")).to_have_text("The provider's player")
    assert outside == ["https://www.youtube-nocookie.com/embed/aqz-KE-bpKQ"]
    assert_no_problems(problems, "the article with an embed")  # no CSP violation for the frame


@pytest.fixture
def page_cache(settings):
    """The page cache on, as in production, and empty before and after."""
    from django.core.cache import cache, caches

    settings.NEWSROOM_CACHE_PAGES = True
    cache.clear()
    caches["local_pages"].clear()
    yield
    cache.clear()
    caches["local_pages"].clear()


def test_an_update_posted_in_the_admin_reaches_a_reader_without_reloading(open_page, settings, page_cache):
    settings.NEWSROOM_LIVE_POLL_SECONDS = 1
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    reporter = make_author("Amara Diallo")
    article = make_article(headline="Election day: live", live_coverage=True)
    LiveUpdate.objects.create(article=article, body="<p>Polls open.</p>", author=reporter)

    reader, reader_problems = open_page()
    reader.goto(article.get_absolute_url())
    expect(reader.locator(".live-update")).to_have_count(1)

    editor, problems = open_page()
    editor.goto("/admin/")
    editor.fill("#id_username", "editor")
    editor.fill("#id_password", PASSWORD)
    editor.click("input[type=submit]")
    editor.goto(f"/admin/articles/article/{article.pk}/change/")
    editor.get_by_role("link", name="Post an update").click()
    editor.fill("#id_title", "Turnout is high")
    body = editor.locator(".field-body .ProseMirror[contenteditable=true]")
    body.click()
    editor.keyboard.type("Queues at every polling station.")
    editor.locator("input[name=_addanother]").last.click()
    expect(editor.locator(".messagelist")).to_contain_text("Write the next update")
    assert_no_problems(problems, "the live update form")

    newest = reader.locator(".live-update").first
    expect(newest).to_contain_text("Queues at every polling station.", timeout=8_000)
    expect(newest.locator("h3")).to_have_text("Turnout is high")
    expect(reader.locator(".live-update")).to_have_count(2)
    expect(reader.locator(".live-status")).to_have_text("1 new update")
    assert_no_problems(reader_problems, "the live page")
