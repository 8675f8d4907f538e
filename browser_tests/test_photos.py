"""An editor uploads a photo and makes it an article's lead image; a reader sees it."""

import io
import re

import pytest
from django.contrib.auth.models import User
from PIL import Image as PILImage
from playwright.sync_api import expect

from articles.models import Article, Image
from articles.tests.factories import make_article, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple-7"
ALT = "Soldiers unload a helicopter at Bamako airport"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def newsroom():
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    return make_article(
        headline="Mali receives helicopters", section=make_section("Africa", slug="africa"), ready=True
    )


def jpeg(size=(1400, 933)):
    image = PILImage.linear_gradient("L").resize(size).convert("RGB")
    image.paste(PILImage.new("RGB", (400, 300), (200, 110, 40)), (500, 300))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def assert_no_problems(problems, where):
    found = problems.take()
    assert not found, f"browser problems on {where}:\n" + "\n".join(found)


def test_editor_uploads_a_photo_and_sets_it_as_lead_image_and_a_reader_sees_it(open_page, newsroom):
    page, problems = open_page()
    page.goto("/admin/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("editors")

    # Upload: the photo goes into the library with its description.
    page.goto("/admin/articles/image/add/")
    page.set_input_files("#id_file", {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    page.fill("#id_alt_text", ALT)
    page.fill("#id_caption", "The helicopters arrived on Thursday.")
    page.fill("#id_credit", "Reuters/Moussa Sissoko")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    thumbnail = page.locator("#result_list img.admin-thumbnail").first
    expect(thumbnail).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert_no_problems(problems, "the image upload")
    image = Image.objects.get()
    assert image.renditions.count() > 10  # made by the task once the upload was saved

    # Choose it as the article's lead image with the search-as-you-type chooser.
    page.goto(f"/admin/articles/article/{newsroom.pk}/change/")
    page.locator(".field-lead_image .select2-container").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially("helicopter", delay=20)
    result = page.locator(".select2-results__option .image-chooser-item").first
    expect(result).to_contain_text(ALT)
    expect(result.locator("img")).to_have_attribute("src", re.compile(r"/media/renditions/.+\.jpg$"))
    result.click()
    expect(page.locator(".field-lead_image .select2-selection .image-chooser-item img")).to_be_visible()
    page.get_by_role("button", name="Update", exact=True).first.click()  # a live story: Update keeps it live
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.goto("/admin/articles/article/")
    expect(page.locator("#result_list img.admin-thumbnail")).to_have_count(1)
    assert_no_problems(problems, "choosing the lead image")
    assert Article.objects.get(pk=newsroom.pk).lead_image == image

    # A reader (new context, no cookies) sees the photo on the home page and the article.
    reader, reader_problems = open_page()
    reader.goto("/")
    teaser_image = reader.locator(".teaser-image img")
    expect(teaser_image).to_have_attribute("loading", "lazy")
    reader.get_by_role("link", name="Mali receives helicopters").click()
    figure = reader.locator("figure.lead-image")
    photo = figure.locator("img")
    expect(photo).to_have_attribute("alt", ALT)
    expect(figure.locator("figcaption")).to_contain_text("The helicopters arrived on Thursday.")
    expect(figure.locator("figcaption")).to_contain_text("Reuters/Moussa Sissoko")
    photo.scroll_into_view_if_needed()
    reader.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    current = photo.evaluate("img => img.currentSrc")
    assert re.search(r"/media/renditions/.+\.(avif|webp)$", current), current  # a modern format was picked
    assert photo.evaluate("img => img.getAttribute('width') && img.getAttribute('height')")
    assert_no_problems(reader_problems, "the article page")
