"""The admin as newsroom editors use it, in Chromium: tags, reordering, who else is editing, and axe."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import expect

from articles.models import Article, Tag
from articles.tests.factories import make_article, make_author, make_image, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"


@pytest.fixture
def newsroom():
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD, first_name="Eddie", last_name="Ba")
    User.objects.create_superuser("sam", "sam@example.com", PASSWORD, first_name="Sam", last_name="Okafor")
    section = make_section("Africa", slug="africa")
    ana, bo = make_author("Ana Diallo"), make_author("Bo Traoré")
    other = make_article(headline="Background: a long headline about the Sahel that runs on past forty characters")
    article = make_article(
        headline="Helicopters arrive in Bamako", section=section, authors=[ana, bo], tags=["Army"], ready=True
    )
    Tag.objects.create(name="Mali")
    return {"article": article, "other": other, "ana": ana, "bo": bo}


def log_in(page, username="editor"):
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def serious_violations(page):
    results = Axe().run(page)
    found = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    return [(v["id"], [node["target"] for node in v["nodes"]]) for v in found]


def change_url(article):
    return f"/admin/articles/article/{article.pk}/change/"


def test_axe_finds_no_serious_problem_on_the_article_form(open_page, newsroom):
    page, problems = open_page()
    log_in(page)
    page.goto(change_url(newsroom["article"]))
    # Named by static/js/article-form.js once the editor and select2 are drawn.
    expect(page.locator(".field-body .ProseMirror[contenteditable=true]")).to_have_attribute("aria-label", "Body")
    expect(page.locator("#select2-id_lead_image-container")).to_have_attribute("aria-label", "Lead image")
    assert serious_violations(page) == []
    page.goto("/admin/articles/article/")
    assert serious_violations(page) == []
    assert not problems.take()


def test_the_body_editor_checks_spelling_and_starts_tall(open_page, newsroom):
    page, _ = open_page()
    log_in(page)
    page.goto(change_url(newsroom["article"]))
    body = page.locator(".field-body .ProseMirror[contenteditable=true]")
    expect(body).to_have_attribute("spellcheck", "true")
    assert body.bounding_box()["height"] >= 300


def test_enter_picks_the_existing_tag_and_creating_one_is_deliberate(open_page, newsroom):
    page, problems = open_page()
    log_in(page)
    page.goto(change_url(newsroom["article"]))
    page.locator(".field-tags .select2-container").click()
    search = page.locator(".field-tags .select2-search__field")

    # "mal" matches the existing "Mali": it is highlighted, creating comes last.
    search.press_sequentially("mal", delay=20)
    expect(page.locator(".select2-results__option.loading-results")).to_have_count(0)
    expect(page.locator(".select2-results__option--highlighted")).to_have_text("Mali")
    expect(page.locator(".select2-results__option").last).to_have_text("Create new tag “mal”")
    search.press("Enter")
    expect(page.locator(".field-tags .select2-selection__choice", has_text="Mali")).to_have_count(1)

    # The exact name in another case: no second tag offered at all.
    search.press_sequentially("army", delay=20)
    expect(page.locator(".select2-results__option.loading-results")).to_have_count(0)
    expect(page.locator(".select2-results__option", has_text="Create new tag")).to_have_count(0)

    page.keyboard.press("Escape")
    page.locator("input[name=_continue]").last.click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert sorted(Article.objects.get(pk=newsroom["article"].pk).tags.names()) == ["Army", "Mali"]
    assert Tag.objects.count() == 2
    assert not problems.take()


def test_the_byline_reorders_by_keyboard_and_by_dragging(open_page, newsroom):
    page, problems = open_page()
    log_in(page)
    page.goto(change_url(newsroom["article"]))
    rows = page.locator("#authorships-group tbody tr.form-row.has_original")
    expect(rows).to_have_count(2)

    # Keyboard: focus Bo's handle, arrow up.
    rows.nth(1).locator(".order-handle").focus()
    page.keyboard.press("ArrowUp")
    expect(rows.nth(0)).to_contain_text("Bo Traoré")
    expect(page.locator("#authorships-group .order-status")).to_have_text("Moved to position 1 of 2.")
    page.locator("input[name=_continue]").last.click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert [a.name for a in Article.objects.get(pk=newsroom["article"].pk).byline] == ["Bo Traoré", "Ana Diallo"]

    # Dragging Bo's row below Ana's puts the byline back.
    target = rows.nth(1)
    target_height = target.bounding_box()["height"]
    rows.nth(0).locator(".order-handle").drag_to(target, target_position={"x": 10, "y": target_height - 4})
    expect(rows.nth(1)).to_contain_text("Bo Traoré")
    page.locator("input[name=_continue]").last.click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert [a.name for a in Article.objects.get(pk=newsroom["article"].pk).byline] == ["Ana Diallo", "Bo Traoré"]

    # A new row gets the next position.
    page.locator("#authorships-group .add-row a").click()
    new_row = page.locator("#authorships-group tbody tr.form-row.dynamic-authorships").last
    expect(new_row.locator("td.field-position input")).to_have_value("2")
    assert not problems.take()


def test_the_related_article_picker_shows_whole_headlines(open_page, newsroom):
    page, _ = open_page()
    log_in(page)
    page.goto(change_url(newsroom["article"]))
    page.locator("#related_links-group .add-row a").click()
    page.locator("#related_links-group .select2-container").last.click()
    page.locator(".select2-search__field").last.press_sequentially("Background", delay=20)
    option = page.locator(".select2-results__option", has_text="Background")
    expect(option).to_have_text(newsroom["other"].headline)
    option.click()
    chosen = page.locator("#related_links-group .select2-selection__rendered").last
    expect(chosen).to_have_text(newsroom["other"].headline)
    # Not cut off: the box is as wide as the text needs.
    assert chosen.evaluate("element => element.scrollWidth <= element.clientWidth")


def test_an_editor_sees_who_else_has_the_article_open(open_page, newsroom, monkeypatch):
    from datetime import timedelta

    from articles.admin import editing

    monkeypatch.setattr(editing, "EDITING_PING", timedelta(seconds=1))
    eddie, _ = open_page()
    log_in(eddie)
    eddie.goto(change_url(newsroom["article"]))
    notice = eddie.locator("#editing-others")
    expect(notice).to_be_hidden()

    sam, _ = open_page()
    log_in(sam, "sam")
    sam.goto(change_url(newsroom["article"]))
    expect(sam.locator("#editing-others")).to_contain_text("Eddie Ba has had it open since")

    # Eddie's open form pings, and learns that Sam came in.
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Sam Okafor has had it open since")

    # Sam leaves: the page says goodbye, and Eddie's notice goes at the next ping.
    sam.goto("/admin/")
    expect(notice).to_be_hidden()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_figure_comes_from_the_photo_library(open_page, newsroom, media_root):
    photo = make_image(alt_text="Helicopters on the tarmac", caption="Arrival at Bamako.", credit="Ana Diallo")
    page, problems = open_page()
    log_in(page)
    page.goto(change_url(newsroom["article"]))
    page.get_by_role("button", name="Insert photo from the library").click()
    page.get_by_role("searchbox", name="Search photos by alt text, caption or credit").fill("tarmac")
    page.locator(".library-photo-choice", has_text="Helicopters on the tarmac").click()
    body = page.locator(".field-body .ProseMirror")
    expect(body.locator("figure img")).to_have_attribute("alt", "Helicopters on the tarmac")
    expect(body.locator("figure figcaption")).to_have_text("Arrival at Bamako.")
    page.locator("input[name=_continue]").last.click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    stored = Article.objects.get(pk=newsroom["article"].pk).body
    # Saved with the photo's id: readers get its renditions, alt text and credit from the library.
    assert f'<figure data-image-id="{photo.pk}">' in stored and f'src="{photo.picture["src"]}"' in stored
    assert "<figcaption>Arrival at Bamako.</figcaption>" in stored
    reader = page.context.new_page()
    reader.goto(newsroom["article"].get_absolute_url())
    expect(reader.locator("figure.body-image img")).to_have_attribute("alt", "Helicopters on the tarmac")
    expect(reader.locator("figure.body-image figcaption")).to_contain_text("Ana Diallo")
    reader.close()
    assert not problems.take()


def test_the_focal_point_is_set_by_clicking_the_photo(open_page, newsroom, media_root):
    photo = make_image(width=1600, height=1000)
    page, problems = open_page()
    log_in(page)
    page.goto(f"/admin/articles/image/{photo.pk}/change/")
    preview = page.locator(".focal-picker img")
    box = preview.bounding_box()
    preview.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.75})
    expect(page.locator(".focal-marker")).to_be_visible()
    assert abs(float(page.input_value("#id_focal_x")) - 0.25) < 0.02
    assert abs(float(page.input_value("#id_focal_y")) - 0.75) < 0.02
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    photo.refresh_from_db()
    assert abs(photo.focal_x - 0.25) < 0.02 and abs(photo.focal_y - 0.75) < 0.02
    assert not problems.take()
