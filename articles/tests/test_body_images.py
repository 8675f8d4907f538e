"""
Photos from the library inside a body: a <figure data-image-id> is shown with
the image's renditions, alt text and credit; two or more in a row are a
gallery; all of a page's figures cost one query; an image change makes the
pages showing it stale; an image a body shows cannot be deleted.
"""

import feedparser
import pytest
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from articles.models import LiveUpdate

from .factories import make_article, make_image

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def figure(image, caption=""):
    """What the body editor's picker stores for a library photo."""
    captioned = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure data-image-id="{image.pk}"><img src="/media/preview.jpg" alt="">{captioned}</figure>'


def count_queries(client, path):
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_a_body_figure_has_the_library_images_renditions_alt_text_and_credit(client):
    image = make_image(alt_text="Soldiers unload a helicopter", credit="Reuters/M. Sissoko", caption="Library caption")
    article = make_article(body=f"<p>Before.</p>{figure(image, 'Bamako airport on <b>Tuesday</b>')}<p>After.</p>")

    html = client.get(article.get_absolute_url()).content.decode()

    assert '<figure class="body-image">' in html
    assert 'alt="Soldiers unload a helicopter"' in html
    assert "srcset=" in html and 'type="image/avif"' in html
    assert "Bamako airport on <b>Tuesday</b>" in html  # the body's caption wins
    assert "Library caption" not in html
    assert "Reuters/M. Sissoko" in html
    assert "/media/preview.jpg" not in html  # the picker's preview is not what readers get


def test_a_figure_without_caption_takes_the_images_own(client):
    image = make_image(caption="The library's caption")
    article = make_article(body=figure(image))

    assert "The library&#x27;s caption" in client.get(article.get_absolute_url()).content.decode()


def test_figures_in_a_row_are_a_gallery_readable_without_javascript(client):
    images = [make_image(alt_text=f"Photo number {n}") for n in range(3)]
    lone = make_image(alt_text="A lone photo")
    body = "".join(figure(image, f"Caption {n}") for n, image in enumerate(images))
    article = make_article(body=f"<p>Intro.</p>{body}<p>Between.</p>{figure(lone)}")

    html = client.get(article.get_absolute_url()).content.decode()

    assert html.count('<div class="gallery"') == 1
    gallery = html.split('<div class="gallery"')[1].split("</div>")[0]
    assert 'aria-label="Gallery of 3 photos"' in gallery
    for n in range(3):
        assert f'alt="Photo number {n}"' in gallery and f"Caption {n}" in gallery
    assert "A lone photo" not in gallery and 'alt="A lone photo"' in html
    assert "<script" not in gallery


@pytest.mark.parametrize("figures", [1, 6])
def test_every_figure_of_a_page_costs_one_query_together(client, django_assert_num_queries, figures):
    plain = make_article(body="<p>No photos.</p>", days=-3)
    without_figures = count_queries(client, plain.get_absolute_url())
    article = make_article(body="".join(figure(make_image(renditions=n % 2 == 0)) for n in range(figures)), days=-3)

    with django_assert_num_queries(without_figures + 1):
        html = client.get(article.get_absolute_url()).content.decode()

    assert html.count('<figure class="body-image">') == figures


def test_an_image_without_renditions_yet_shows_a_placeholder_never_the_original(client):
    """The original may weigh megabytes: until the worker has made renditions, readers get the light placeholder."""
    image = make_image(renditions=False)
    article = make_article(body=figure(image))

    html = client.get(article.get_absolute_url()).content.decode()

    assert image.file.url not in html
    assert "photo-pending" in html and 'alt="' in html


def test_a_figure_not_from_the_library_stays_as_written(client):
    article = make_article(body='<figure><img src="https://example.org/a.jpg" alt="Old"></figure>')

    html = client.get(article.get_absolute_url()).content.decode()

    assert '<figure><img src="https://example.org/a.jpg" alt="Old"></figure>' in html


def test_the_reference_survives_sanitizing():
    image = make_image()
    article = make_article(body=f'<figure data-image-id="{image.pk}" onclick="x()"><img src="/a.jpg" alt=""></figure>')

    article.refresh_from_db()
    assert f'<figure data-image-id="{image.pk}">' in article.body


def test_an_image_shown_in_a_body_cannot_be_deleted():
    image = make_image()
    other = make_image()
    article = make_article(headline="Where it shows", body=figure(image))
    make_article(body=figure(other).replace(f'"{other.pk}"', f'"{other.pk}0"'))  # a longer id is another image

    with pytest.raises(ProtectedError, match="Where it shows"):
        image.delete()

    article.body = "<p>Taken out.</p>"
    article.save()
    image.delete()
    other.delete()


def test_an_image_shown_in_a_live_update_cannot_be_deleted():
    image = make_image()
    article = make_article(live_coverage=True)
    LiveUpdate.objects.create(article=article, body=figure(image))

    with pytest.raises(ProtectedError, match="live update"):
        image.delete()


def test_feeds_carry_body_figures_as_plain_images_with_absolute_urls(client):
    image = make_image(alt_text="A photo in the feed", credit="AFP")
    make_article(body=f"<p>Text.</p>{figure(image, 'In the feed')}")

    content = feedparser.parse(client.get("/feed/rss/").content).entries[0].content[0].value

    assert 'alt="A photo in the feed"' in content
    assert 'src="http://testserver/media/' in content
    assert "In the feed" in content and "AFP" in content
    assert "<picture" not in content


@pytest.mark.page_cache
def test_changing_an_image_refreshes_the_articles_that_show_it_in_the_body(client, django_assert_num_queries):
    image = make_image(alt_text="Old alt text")
    article = make_article(body=figure(image))
    elsewhere = make_article(body="<p>No photo.</p>")
    url = article.get_absolute_url()
    client.get(url)
    client.get(elsewhere.get_absolute_url())

    image.alt_text = "New alt text"
    image.save()

    assert "New alt text" in client.get(url).content.decode()
    with django_assert_num_queries(0):  # an article without the photo stays cached
        client.get(elsewhere.get_absolute_url())


def test_a_figure_the_editor_inserted_by_address_is_linked_to_its_library_photo():
    """The body editor keeps only the photo's address; saving finds the photo (rendition or original) by it."""
    from articles.bodies import link_library_figures

    rendered, original = make_image(renditions=True), make_image(renditions=False)
    rendition_url = rendered.renditions.order_by("width").first().file.url
    body = (
        f'<figure><img src="{rendition_url}" alt="A"><figcaption>Edited.</figcaption></figure>'
        f'<figure><img src="{original.file.url}" alt="B"></figure>'
        '<figure><img src="/media/nowhere.jpg" alt="C"></figure>'
        f'<figure data-image-id="{original.pk}"><img src="{rendition_url}" alt="D"></figure>'
    )

    linked = link_library_figures(body)

    assert linked.count(f'<figure data-image-id="{rendered.pk}"><img src="{rendition_url}"') == 1
    assert f'<figure data-image-id="{original.pk}"><img src="{original.file.url}"' in linked
    assert '<figure><img src="/media/nowhere.jpg" alt="C"></figure>' in linked  # not in the library: as written
    assert f'<figure data-image-id="{original.pk}"><img src="{rendition_url}" alt="D">' in linked  # already linked
    assert link_library_figures("<p>No photos.</p>") == "<p>No photos.</p>"
