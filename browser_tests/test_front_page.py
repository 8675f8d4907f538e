"""
The front page in the browser: an editor curates it (the article list's action,
then dragging and the keyboard to order it, checked in the admin's preview), a
reader sees the lead, the top stories and the breaking-news banner; and the
demo's reader pages have no axe violations in the light and dark themes, on a
desktop and on a phone, where the headline shows well before half the screen.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from articles.models import BreakingNews, FrontPageSlot
from articles.tests.factories import make_article, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"
PHONE = {"width": 390, "height": 844}


def assert_no_problems(problems, where):
    found = problems.take()
    assert not found, f"browser problems on {where}:\n" + "\n".join(found)


def log_in(page):
    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("editors")


def expect_slot_order(page, headlines):
    """The front page admin's rows in this order (waiting for the list, as a reader of the page would)."""
    expect(page.locator("#result_list tbody th a")).to_have_text(headlines)


def test_an_editor_curates_the_front_page_and_a_reader_sees_it(open_page):
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    world = make_section("World", slug="world")
    stories = [
        make_article(headline=headline, days=-days, section=world)
        for days, headline in enumerate(["Floods recede", "Vote count begins", "Summit ends"], start=1)
    ]
    page, problems = open_page()
    log_in(page)

    # Put all three on the front page from the article list.
    page.goto("/admin/articles/article/")
    for article in stories:
        page.locator(f'input[name="_selected_action"][value="{article.pk}"]').check()
    page.select_option('select[name="action"]', "put_on_front_page")
    page.click('button[name="index"]')
    expect(page.locator(".messagelist")).to_contain_text("3 articles put on the front page.")
    page.locator(".messagelist").get_by_role("link", name="Order the front page").click()
    expect(page).to_have_url(re.compile(r"/admin/articles/frontpageslot/$"))
    expect_slot_order(page, ["Floods recede", "Vote count begins", "Summit ends"])

    # Drag "Summit ends" to the top, then move "Vote count begins" down with the keyboard.
    page.locator("#result_list tbody tr").nth(2).locator(".front-page-handle button").drag_to(
        page.locator("#result_list tbody tr").nth(0), target_position={"x": 5, "y": 2}
    )
    expect_slot_order(page, ["Summit ends", "Floods recede", "Vote count begins"])
    expect(page.locator("#front-page-order-status")).to_contain_text("Summit ends: now 1 of 3, the lead")
    page.locator("#result_list tbody tr").nth(1).locator(".front-page-handle button").focus()
    page.keyboard.press("ArrowDown")
    expect_slot_order(page, ["Summit ends", "Vote count begins", "Floods recede"])
    expect(page.locator("#result_list tbody tr").nth(2).locator(".front-page-handle button")).to_be_focused()
    page.click('input[name="_save"]')
    expect(page.locator(".messagelist")).to_contain_text("successfully")
    expect_slot_order(page, ["Summit ends", "Vote count begins", "Floods recede"])
    assert [slot.article.headline for slot in FrontPageSlot.objects.select_related("article")] == [
        "Summit ends",
        "Vote count begins",
        "Floods recede",
    ]

    # The preview below the list is the readers' page.
    preview = page.frame_locator('iframe[title="Preview of the front page"]')
    expect(preview.locator(".lead-story-headline")).to_have_text("Summit ends")
    expect(preview.locator(".top-stories .teaser-headline")).to_have_text(["Vote count begins", "Floods recede"])
    assert_no_problems(problems, "the front page's admin and its preview")

    # A breaking-news banner, then the reader's home page.
    BreakingNews.objects.create(text="Polls close in an hour", url=stories[1].get_absolute_url())
    reader, reader_problems = open_page()
    reader.goto("/")
    expect(reader.locator(".lead-story-headline")).to_have_text("Summit ends")
    reader.locator(".breaking-news").get_by_role("link").click()
    expect(reader.locator("h1")).to_have_text("Vote count begins")
    expect(reader.locator(".breaking-news")).to_contain_text("Polls close in an hour")
    assert_no_problems(reader_problems, "the reader's home and article pages")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_demos_reader_pages_have_no_axe_violations(open_page, scheme, viewport):
    call_command("loaddata", "demo", verbosity=0)
    page, problems = open_page()
    page.emulate_media(color_scheme=scheme)
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    axe = Axe()
    page.set_content('<html><body><img src="data:,"></body></html>')
    assert axe.run(page).violations_count > 0, "axe finds nothing wrong with a page without lang or alt text"
    for path in [
        "/",
        "/2021/10/01/mali-receives-helicopters-and-weapons-from-russia/",
        "/section/africa/",
        "/search/?q=mali",
    ]:
        page.goto(path)
        results = axe.run(page)
        assert results.violations_count == 0, f"{path} ({scheme}, {viewport}):\n{results.generate_report()}"
    assert_no_problems(problems, f"the demo's pages ({scheme}, {viewport})")


def test_on_a_phone_the_lead_headline_shows_high_on_the_screen(open_page):
    call_command("loaddata", "demo", verbosity=0)
    page, _ = open_page()
    page.set_viewport_size(PHONE)

    page.goto("/2021/10/01/mali-receives-helicopters-and-weapons-from-russia/")
    header = page.locator(".site-header").bounding_box()
    headline = page.locator("h1").bounding_box()

    # Was 310 px of 844 before the headline (masthead, a two-line menu, a search row).
    assert header["y"] + header["height"] <= 200, header
    assert headline["y"] < 300, headline
    expect(page.locator(".site-search")).to_be_hidden()
    expect(page.locator(".site-header .search-link")).to_be_visible()
    # One line of sections, scrolled sideways.
    nav = page.locator(".section-nav").bounding_box()
    assert nav["height"] < 50, nav
