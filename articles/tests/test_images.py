"""
Photos: upload checks, metadata stripping, renditions, templates, query
budgets, the image admin and the lead-image chooser, the demo photos.
"""

import io
import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from PIL import ExifTags, ImageCms, PngImagePlugin, features
from PIL import Image as PILImage
from pytest_django.asserts import assertContains, assertNotContains

from articles import images
from articles.models import Article, Image, Rendition

from .factories import make_article, make_author, make_image, make_section

pytestmark = pytest.mark.django_db

IMAGES_ADMIN = "/admin/articles/image/"
ARTICLES_ADMIN = "/admin/articles/article/"
CHOOSER = "/admin/articles/image/chooser/"
FORMATS = {"jpeg", "webp"} | ({"avif"} if features.check("avif") else set())


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores its files in a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root):
    return sorted(path for path in Path(media_root).rglob("*") if path.is_file())


def encode(image, format, **options):
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def photo(size=(800, 600), colour=(180, 90, 30)):
    """A picture with some detail (a gradient and a block), so that crops and resizes can be told apart."""
    image = PILImage.linear_gradient("L").resize(size).convert("RGB")
    image.paste(PILImage.new("RGB", (size[0] // 4, size[1] // 4), colour), (0, 0))
    return image


def upload(data, name="photo.jpg"):
    return SimpleUploadedFile(name, data)


def rejection(data, name="photo.jpg"):
    with pytest.raises(ValidationError) as caught:
        images.prepare_upload(upload(data, name))
    return " ".join(caught.value.messages)


def admin_upload(client, data, name="photo.jpg", **fields):
    return client.post(
        IMAGES_ADMIN + "add/",
        {"file": upload(data, name), "alt_text": "Soldiers unload a helicopter", **fields},
    )


# Uploads: what is accepted.


@pytest.mark.parametrize(
    ("format", "extension"),
    [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif")]
    + ([("AVIF", "avif")] if features.check("avif") else []),
)
def test_raster_formats_are_accepted_and_named_by_their_hash(format, extension):
    prepared = images.prepare_upload(upload(encode(photo((640, 480)), format), name="My holiday.bin"))

    assert prepared.format == format
    assert (prepared.width, prepared.height) == (640, 480)
    assert prepared.name == f"{prepared.sha256}.{extension}"
    assert "holiday" not in prepared.name
    with PILImage.open(io.BytesIO(prepared.content)) as stored:
        assert stored.format == format


def test_content_decides_not_the_extension():
    prepared = images.prepare_upload(upload(encode(photo(), "PNG"), name="photo.jpg"))

    assert prepared.format == "PNG"
    assert prepared.name.endswith(".png")


# Uploads: what is refused, with a message the editor understands.


def test_svg_is_refused_even_with_a_jpeg_name():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

    assert "SVG files are not accepted" in rejection(svg, name="photo.jpg")
    assert "SVG files are not accepted" in rejection(b"  <svg onload='alert(1)'></svg>", name="x.png")


def test_empty_file_is_refused():
    assert "The file is empty" in rejection(b"")


def test_file_over_25_mb_is_refused_before_it_is_read():
    big = upload(b"\xff\xd8" + b"\0" * (25 * 1024 * 1024))

    with pytest.raises(ValidationError) as caught:
        images.prepare_upload(big)

    assert "the limit is 25.0\xa0MB" in caught.value.messages[0]


def test_image_over_50_megapixels_is_refused():
    # 8,000 × 6,300 = 50.4 megapixels of one grey: a few hundred KB of PNG.
    data = encode(PILImage.new("L", (8000, 6300), 128), "PNG", compress_level=9)

    message = rejection(data, name="bomb.png")

    assert "too large (8,000×6,300 pixels)" in message
    assert "the limit is 50 megapixels" in message


def png_header_only(width, height):
    """A PNG that claims width × height pixels but carries almost no data: a decompression bomb's shape."""

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(10_000, 10_000), (30_000, 30_000)], ids=["pillow-warns", "pillow-refuses"])
def test_decompression_bombs_are_refused_without_decoding(size):
    """Beyond Pillow's own limits it warns (an error here) or raises; both become the same message."""
    message = rejection(png_header_only(*size), name="bomb.png")

    assert "the limit is 50 megapixels" in message


def test_truncated_jpeg_is_refused():
    data = encode(photo(), "JPEG", quality=95)

    assert "damaged or incomplete" in rejection(data[: len(data) // 2])


def test_corrupt_png_is_refused():
    data = bytearray(encode(photo(), "PNG"))
    data[200:400] = b"\x00" * 200

    assert "damaged or incomplete" in rejection(bytes(data), name="photo.png")


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7 not a photo", "scan.jpg"),
        (b"just some text", "notes.png"),
        (encode(photo(), "BMP"), "photo.bmp"),
        (encode(photo(), "TIFF"), "photo.tiff"),
    ],
    ids=["pdf", "text", "bmp", "tiff"],
)
def test_files_that_are_not_accepted_images_are_refused(data, name):
    message = rejection(data, name=name)

    assert "This file is not a photo we can use: upload a JPEG, PNG, WebP, GIF" in message


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.jpg", "The submitted file is empty."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "SVG files are not accepted"),
        (encode(photo(), "PNG")[:3000], "broken.png", "damaged or incomplete"),
        (b"plain text", "notes.jpg", "not a photo we can use"),
    ],
    ids=["empty", "svg", "corrupt", "text"],
)
def test_admin_refuses_bad_uploads_and_stores_nothing(admin_client, media_root, data, name, message):
    response = admin_upload(admin_client, data, name)

    assert response.status_code == 200  # the form again, with the error
    assertContains(response, message)
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_alt_text_is_required(admin_client, media_root):
    response = admin_client.post(IMAGES_ADMIN + "add/", {"file": upload(encode(photo(), "JPEG")), "alt_text": ""})

    assertContains(response, "This field is required.")
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_the_same_photo_twice_is_refused_with_a_pointer_to_the_first(admin_client):
    data = encode(photo(), "JPEG")
    admin_upload(admin_client, data)

    response = admin_upload(admin_client, data, name="again.jpg")

    assertContains(response, "This photo is already in the library as “Soldiers unload a helicopter”.")
    assert Image.objects.count() == 1


def test_focal_point_must_lie_inside_the_image(admin_client):
    response = admin_upload(admin_client, encode(photo(), "JPEG"), focal_x="1.5", focal_y="-0.1")

    assertContains(response, "Ensure this value is less than or equal to 1.")
    assertContains(response, "Ensure this value is greater than or equal to 0.")
    assert Image.objects.count() == 0


# Metadata: nothing that could expose a source survives, the colour profile does.

SERIAL = "SN-4471-SECRET"
OWNER = "Jane Source"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description photoshop:City="Kidal"/></x:xmpmeta>'


def jpeg_with_everything(size=(1000, 750), orientation=1):
    """A JPEG with GPS, camera serial, owner, orientation, a thumbnail-bearing EXIF, XMP and an sRGB profile."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS R5"
    exif[ExifTags.Base.Artist] = OWNER
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.ImageDescription] = "Source meeting, Kidal"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = SERIAL
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.CameraOwnerName] = OWNER
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (18.0, 26.0, 40.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (1.0, 24.0, 29.0)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(photo(size), "JPEG", quality=90, exif=exif, xmp=XMP, icc_profile=srgb)
    with PILImage.open(io.BytesIO(data)) as check:  # the test file really carries all of it
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert check.info.get("xmp")
    return data, srgb


def assert_clean(path, icc_profile):
    raw = path.read_bytes()
    for secret in (SERIAL.encode(), OWNER.encode(), b"Kidal", b"Canon", b"EOS R5", b"xmpmeta", b"Exif\0\0"):
        assert secret not in raw, f"{secret!r} found in {path.name}"
    with PILImage.open(path) as stored:
        exif = stored.getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo), path.name
        assert dict(exif) == {}, path.name
        assert "xmp" not in stored.info and "XML:com.adobe.xmp" not in stored.info, path.name
        assert stored.info.get("icc_profile") == icc_profile, f"colour profile lost in {path.name}"


def test_gps_and_camera_data_are_stripped_from_every_stored_file(
    admin_client, media_root, django_capture_on_commit_callbacks
):
    data, srgb = jpeg_with_everything()

    with django_capture_on_commit_callbacks(execute=True):
        admin_upload(admin_client, data, name="IMG_0042 Kidal source.jpg")

    image = Image.objects.get()
    files = stored_files(media_root)
    assert len(files) == 1 + image.renditions.count() > 10  # the original and every rendition
    assert not any("IMG_0042" in str(path) or "Kidal" in str(path) for path in files)
    for path in files:
        assert_clean(path, srgb)


def test_exif_orientation_is_applied():
    data, _ = jpeg_with_everything(size=(400, 200), orientation=6)  # "rotate 90° clockwise to view"

    prepared = images.prepare_upload(upload(data))

    assert (prepared.width, prepared.height) == (200, 400)
    with PILImage.open(io.BytesIO(prepared.content)) as stored:
        assert stored.size == (200, 400)
        # The orange block was top-left as stored; upright, it is top-right.
        red, _, blue = stored.getpixel((180, 20))
        assert red > 150 and blue < 80
        red, _, blue = stored.getpixel((20, 20))
        assert abs(red - blue) < 10  # the grey gradient


def test_png_text_chunks_are_stripped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", OWNER)
    info.add_text("GPS", "18.44N 1.41E")
    data = encode(photo(), "PNG", pnginfo=info)

    prepared = images.prepare_upload(upload(data, "photo.png"))

    assert OWNER.encode() not in prepared.content
    with PILImage.open(io.BytesIO(prepared.content)) as stored:
        assert "Author" not in stored.info and "GPS" not in stored.info


# Renditions.


def rendition_specs(image):
    return {(rendition.kind, rendition.format, rendition.width) for rendition in image.renditions.all()}


CROPS = {("social", "jpeg", 1200), ("16x9", "jpeg", 1200), ("4x3", "jpeg", 1200), ("1x1", "jpeg", 1200)}


def test_renditions_cover_the_ladder_in_every_format_a_social_card_and_googles_crops():
    image = make_image(width=2400, height=1600)

    widths = [160, 320, 640, 960, 1280, 1920]
    expected = {("width", format, width) for format in FORMATS for width in widths} | CROPS
    assert rendition_specs(image) == expected
    for rendition in image.renditions.all():
        with rendition.file.open("rb") as file, PILImage.open(file) as stored:
            assert stored.size == (rendition.width, rendition.height)
            assert stored.format == rendition.format.upper()
        assert rendition.file_size == rendition.file.size  # recorded as it was written
        if rendition.kind == "width":
            assert rendition.height == round(1600 * rendition.width / 2400)
    social = image.social_rendition
    assert (social.width, social.height) == (1200, 630)
    assert [(crop.kind, crop.width, crop.height) for crop in image.crop_renditions] == [
        ("16x9", 1200, 675),
        ("4x3", 1200, 900),
        ("1x1", 1200, 1200),
    ]


def test_renditions_are_never_wider_than_the_original():
    image = make_image(width=700, height=500)

    assert {width for kind, _, width in rendition_specs(image) if kind == "width"} == {160, 320, 640}
    social = image.social_rendition
    assert (social.width, social.height) == (700, round(700 * 630 / 1200))  # cropped, not enlarged
    assert [(crop.width, crop.height) for crop in image.crop_renditions] == [(700, 394), (667, 500), (500, 500)]


def test_a_tiny_image_gets_one_rendition_at_its_own_width():
    image = make_image(width=100, height=80)

    assert {width for kind, _, width in rendition_specs(image) if kind == "width"} == {100}


def test_social_card_is_cropped_around_the_focal_point():
    left_red_right_blue = PILImage.new("RGB", (2400, 900), "red")
    left_red_right_blue.paste(PILImage.new("RGB", (1200, 900), "blue"), (1200, 0))
    prepared = images.prepare_upload(upload(encode(left_red_right_blue, "PNG"), "split.png"))
    image = images.save_prepared_image(prepared=prepared, alt_text="Red and blue", focal_x=0.95, focal_y=0.5)

    images.ensure_renditions(image)

    with image.social_rendition.file.open("rb") as file, PILImage.open(file) as card:
        assert card.size == (1200, 630)
        red, green, blue = card.convert("RGB").getpixel((600, 315))
        assert blue > 200 and red < 50


@pytest.mark.parametrize("kind", ["16x9", "4x3", "1x1"])
def test_googles_crops_keep_the_focal_point_in_view(kind):
    left_red_right_blue = PILImage.new("RGB", (2400, 900), "red")
    left_red_right_blue.paste(PILImage.new("RGB", (1200, 900), "blue"), (1200, 0))
    prepared = images.prepare_upload(upload(encode(left_red_right_blue, "PNG"), "split.png"))
    image = images.save_prepared_image(prepared=prepared, alt_text="Red and blue", focal_x=0.95, focal_y=0.5)

    images.ensure_renditions(image)

    crop = next(crop for crop in image.crop_renditions if crop.kind == kind)
    with crop.file.open("rb") as file, PILImage.open(file) as picture:
        assert picture.size == (crop.width, crop.height)
        red, green, blue = picture.convert("RGB").getpixel((crop.width // 2, crop.height // 2))
        assert blue > 200 and red < 50


def test_an_upload_records_its_file_size():
    image = make_image(width=300, height=200, renditions=False)

    assert image.file_size == image.file.size > 0


def test_sizes_of_files_stored_before_sizes_were_recorded_are_filled_in_once(django_assert_num_queries):
    """`manage.py renditions` asks the storage for the sizes missing, and then never again."""
    image = make_image(width=400, height=300)
    Image.objects.filter(pk=image.pk).update(file_size=None)
    image.renditions.update(file_size=None)

    assert call_command_output("renditions").endswith("1 image(s) checked, 0 rendition(s) made.\n")

    image = Image.objects.get(pk=image.pk)
    assert image.file_size == image.file.size
    assert all(rendition.file_size == rendition.file.size for rendition in image.renditions.all())
    image = Image.objects.prefetch_related("renditions").get(pk=image.pk)
    with django_assert_num_queries(0):
        assert images.ensure_renditions(image) == 0


def test_renditions_are_idempotent(media_root):
    image = make_image(width=1000, height=700)
    before = {rendition.spec: (rendition.pk, rendition.file.name) for rendition in image.renditions.all()}
    files_before = stored_files(media_root)

    assert images.ensure_renditions(Image.objects.get(pk=image.pk)) == 0
    assert call_command_output("renditions").endswith("1 image(s) checked, 0 rendition(s) made.\n")

    after = {rendition.spec: (rendition.pk, rendition.file.name) for rendition in image.renditions.all()}
    assert after == before
    assert stored_files(media_root) == files_before


def test_moving_the_focal_point_remakes_the_crops_only(media_root, django_capture_on_commit_callbacks):
    image = make_image(width=1600, height=1000)
    old_social = image.social_rendition.file.name
    image.focal_x, image.focal_y = 0.1, 0.2
    image.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert images.ensure_renditions(Image.objects.get(pk=image.pk)) == 4  # the social card and three crops

    new_social = Image.objects.get(pk=image.pk).social_rendition.file.name
    assert new_social != old_social
    assert not (Path(media_root) / old_social).exists()  # the stale file went
    assert (Path(media_root) / new_social).exists()


def call_command_output(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_renditions_command_makes_missing_ones_with_a_progress_bar():
    image = make_image(width=800, height=600, renditions=False)
    make_image(width=500, height=500, renditions=False)

    output = call_command_output("renditions")

    assert "[##############################] 2/2" in output
    made = (3 + 2) * len(FORMATS) + 2 * 4  # 160, 320, 640 and 160, 320 wide, plus the four crops of each
    assert output.endswith(f"2 image(s) checked, {made} rendition(s) made.\n")
    assert image.renditions.count() == 3 * len(FORMATS) + 4
    assert call_command_output("renditions").endswith("2 image(s) checked, 0 rendition(s) made.\n")


def test_renditions_command_remakes_lost_files_when_asked(media_root):
    image = make_image(width=400, height=300)
    lost = image.renditions.first()
    (Path(media_root) / lost.file.name).unlink()

    assert "0 rendition(s) made" in call_command_output("renditions")
    assert "1 image(s) checked, 1 rendition(s) made." in call_command_output("renditions", "--verify-files")
    assert (Path(media_root) / Rendition.objects.get(pk=lost.pk).file.name).exists()


def test_uploading_in_the_admin_generates_renditions_through_the_task(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_upload(admin_client, encode(photo((1300, 900)), "JPEG"))

    assert response.status_code == 302
    # one task enqueued, run at once by the immediate backend (the page cache is off in this test)
    assert len(callbacks) == 1
    image = Image.objects.get()
    assert image.uploaded_by.username == "admin"
    assert (image.width, image.height) == (1300, 900)
    assert image.file.name == f"images/{image.sha256[:2]}/{image.sha256}.jpg"
    assert {width for kind, _, width in rendition_specs(image) if kind == "width"} == {160, 320, 640, 960, 1280}


def test_editing_the_caption_does_not_remake_renditions(admin_client, django_capture_on_commit_callbacks):
    image = make_image()
    specs = {rendition.pk for rendition in image.renditions.all()}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            f"{IMAGES_ADMIN}{image.pk}/change/", {"alt_text": image.alt_text, "caption": "New caption"}
        )

    assert response.status_code == 302
    assert callbacks == []
    assert {rendition.pk for rendition in image.renditions.all()} == specs


# Deleting.


def test_deleting_an_image_in_use_is_refused_naming_the_articles():
    image = make_image()
    make_article(headline="Helicopters land in Bamako", lead_image=image)
    make_article(headline="Wagner talks", lead_image=image)

    with pytest.raises(ProtectedError) as caught:
        image.delete()

    assert "lead image of 2 article(s): “Helicopters land in Bamako”, “Wagner talks”" in str(caught.value)
    assert Image.objects.filter(pk=image.pk).exists()


def test_admin_delete_page_lists_the_articles_that_use_the_image(admin_client):
    image = make_image()
    make_article(headline="Helicopters land in Bamako", lead_image=image)

    response = admin_client.get(f"{IMAGES_ADMIN}{image.pk}/delete/")

    assertContains(response, "would require deleting the following protected related objects")
    assertContains(response, "Helicopters land in Bamako")
    admin_client.post(f"{IMAGES_ADMIN}{image.pk}/delete/", {"post": "yes"})
    assert Image.objects.filter(pk=image.pk).exists()


def test_deleting_an_unused_image_removes_its_files(media_root, django_capture_on_commit_callbacks):
    image = make_image()
    assert stored_files(media_root)

    with django_capture_on_commit_callbacks(execute=True):
        image.delete()

    assert stored_files(media_root) == []
    assert Rendition.objects.count() == 0


# Pages.


def test_article_page_shows_the_lead_image_as_a_responsive_picture(client):
    image = make_image(width=2000, height=1250, caption="Helicopters at Bamako airport.", credit="Reuters/M. Sissoko")
    article = make_article(lead_image=image)

    html = client.get(article.get_absolute_url()).content.decode()

    figure = re.search(r'<figure class="lead-image">.*?</figure>', html, re.S).group(0)
    assert figure.index('type="image/avif"') < figure.index('type="image/webp"') < figure.index("<img")
    img = re.search(r"<img [^>]*>", figure).group(0)
    assert 'width="960" height="600"' in img
    assert f'alt="{image.alt_text}"' in img
    assert 'fetchpriority="high"' in img and "loading=" not in img
    assert 'sizes="(min-width: 42.5rem) 40rem, calc(100vw - 2.5rem)"' in img
    srcset = re.search(r'srcset="([^"]*)"', img).group(1)
    assert [candidate.split()[1] for candidate in srcset.split(", ")] == [
        "160w",
        "320w",
        "640w",
        "960w",
        "1280w",
        "1920w",
    ]
    assert all(candidate.split()[0].endswith(".jpg") for candidate in srcset.split(", "))
    assert '<figcaption><span class="image-caption">Helicopters at Bamako airport.</span> ' in figure
    assert '<span class="image-credit">Reuters/M. Sissoko</span>' in figure


def test_an_article_can_replace_the_image_caption(client):
    image = make_image(caption="The image's own caption.")
    article = make_article(lead_image=image, lead_image_caption="This article's caption.")

    response = client.get(article.get_absolute_url())

    assertContains(response, "This article&#x27;s caption.")
    assertNotContains(response, "The image&#x27;s own caption.")


def test_article_without_a_lead_image_has_no_figure(client):
    response = client.get(make_article().get_absolute_url())

    assertNotContains(response, "lead-image")
    assertNotContains(response, "<picture")


def test_before_renditions_exist_a_placeholder_stands_in_never_the_original(client):
    image = make_image(width=900, height=600, renditions=False)
    article = make_article(lead_image=image)

    response = client.get(article.get_absolute_url())

    assertContains(
        response, f'<img src="/static/img/photo-pending.svg" width="900" height="600" alt="{image.alt_text}"'
    )
    assertNotContains(response, image.file.url)
    assertNotContains(response, "<source")


def test_while_renditions_are_being_made_the_ones_made_so_far_serve(client):
    image = make_image(width=1000, height=500)
    # As if the worker had made only the WebP sizes so far (or the JPEG encoder had failed).
    image.renditions.exclude(format=Rendition.Format.WEBP).delete()
    article = make_article(lead_image=image)

    response = client.get(article.get_absolute_url())

    webp = {rendition.width: rendition.url for rendition in image.renditions.all()}
    assertContains(response, f'<img src="{webp[960]}"')
    assertContains(response, f"{webp[160]} 160w")
    assertNotContains(response, image.file.url)
    assertNotContains(response, "photo-pending.svg")


def test_lists_show_lazy_thumbnails_for_articles_with_a_lead_image(client):
    section = make_section(slug="africa")
    author = make_author(slug="amara")
    image = make_image(width=1600, height=1000)
    with_image = make_article(
        headline="With a photo", lead_image=image, section=section, authors=[author], tags=["Mali"]
    )
    make_article(headline="Without a photo", section=section, authors=[author], tags=["Mali"])

    for path in ["/", "/section/africa/", "/author/amara/", "/tag/mali/"]:
        html = client.get(path).content.decode()
        assert html.count("<picture") == 1, path
        teaser = re.search(r'<article class="teaser has-image">.*?</article>', html, re.S).group(0)
        assert with_image.headline in teaser
        img = re.search(r"<img [^>]*>", teaser).group(0)
        assert 'loading="lazy"' in img and 'decoding="async"' in img, path
        assert 'sizes="(min-width: 60rem) 10rem, 7.5rem"' in img
        assert 'width="320" height="200"' in img
        assert "1280w" not in teaser and "640w" in teaser  # thumbnails offer small candidates only


def test_social_image_is_the_1200_by_630_card():
    image = make_image(width=2000, height=1500)
    article = Article.objects.with_listing_data().get(pk=make_article(lead_image=image).pk)

    social = article.social_image
    assert (social.width, social.height) == (1200, 630)
    assert social.url.startswith("/media/renditions/") and social.url.endswith(".jpg")
    assert make_article().social_image is None


def test_rendering_touches_neither_storage_nor_pillow(client, monkeypatch):
    article = make_article(lead_image=make_image())
    make_article(lead_image=make_image())

    def forbidden(*args, **kwargs):
        raise AssertionError("a page touched storage or decoded an image")

    for name in ("open", "exists", "size", "listdir", "save", "path"):
        monkeypatch.setattr(FileSystemStorage, name, forbidden)
    monkeypatch.setattr(PILImage, "open", forbidden)

    assert client.get("/").status_code == 200
    assert client.get(article.get_absolute_url()).status_code == 200


def test_media_is_served_with_long_caching_when_enabled(client):
    image = make_image()

    response = client.get(image.file.url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "immutable" in response["Cache-Control"]


# Query budgets: images add one query per page (the renditions), whatever the number of articles.


def count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/", "/section/scoped/", "/tag/everywhere/", "/author/lead-author/"])
@pytest.mark.parametrize("count", [3, 12])
def test_list_pages_with_images_add_one_query(client, django_assert_num_queries, path, count):
    section = make_section(slug="scoped")
    authors = [make_author(slug="lead-author"), make_author()]
    articles = [
        make_article(days=-i - 1, section=section, authors=authors, tags=["Everywhere", f"Only {i}"])
        for i in range(count)
    ]
    without_images = count_queries(client, path)
    for article in articles:
        article.lead_image = make_image(width=400, height=300)
        article.save()

    with django_assert_num_queries(without_images + 1):
        response = client.get(path)

    assert response.content.count(b"<picture") == min(count, 10)


@pytest.mark.parametrize("related", [0, 6])
def test_article_page_with_an_image_adds_one_query(client, django_assert_num_queries, related):
    plain = make_article(tags=["Mali"])
    for _ in range(related):
        make_article(tags=["Mali"], lead_image=make_image(width=300, height=200))
    without_image = count_queries(client, plain.get_absolute_url())
    article = make_article(tags=["Mali"], lead_image=make_image())

    with django_assert_num_queries(without_image + 1):
        client.get(article.get_absolute_url())


# The image admin.


def test_image_list_shows_thumbnails_usage_and_searches(admin_client):
    used = make_image(alt_text="Helicopters on the tarmac", credit="Reuters/Moussa Sissoko")
    unused = make_image(alt_text="Market in Gao", caption="Traders in Gao")
    for n in range(3):
        make_article(headline=f"Story {n}", lead_image=used)

    response = admin_client.get(IMAGES_ADMIN)

    assertContains(response, f'<img class="admin-thumbnail" src="{used.thumbnail_url}"')
    assertContains(
        response, f'<a href="{ARTICLES_ADMIN}?lead_image__id__exact={used.pk}">used by 3 articles</a>', html=True
    )
    assertContains(response, "not used")
    assert [image.pk for image in admin_client.get(IMAGES_ADMIN, {"q": "Sissoko"}).context["cl"].result_list] == [
        used.pk
    ]
    assert [image.pk for image in admin_client.get(IMAGES_ADMIN, {"q": "traders"}).context["cl"].result_list] == [
        unused.pk
    ]
    filtered = admin_client.get(ARTICLES_ADMIN, {"lead_image__id__exact": used.pk})
    assert filtered.status_code == 200
    assert len(filtered.context["cl"].result_list) == 3


def test_image_list_filters_by_uploader(admin_client):
    reporter = User.objects.create_user("reporter")
    mine = make_image(uploaded_by=reporter)
    make_image()

    response = admin_client.get(IMAGES_ADMIN, {"uploaded_by__id__exact": reporter.pk})

    assert [image.pk for image in response.context["cl"].result_list] == [mine.pk]


def test_image_change_form_shows_a_preview_and_the_articles_using_it(admin_client):
    image = make_image()
    article = make_article(headline="Helicopters land in Bamako", lead_image=image)

    response = admin_client.get(f"{IMAGES_ADMIN}{image.pk}/change/")

    assertContains(response, 'class="image-preview"')
    assertContains(response, f'<a href="/admin/articles/article/{article.pk}/change/">Helicopters land in Bamako</a>')
    assertNotContains(response, 'name="file"')  # the file is fixed once uploaded


def test_chooser_searches_images_and_returns_thumbnails(admin_client):
    image = make_image(alt_text="Dunes near Timbuktu", caption="Sand", credit="AFP")
    make_image(alt_text="Parliament in Bamako")

    response = admin_client.get(
        CHOOSER, {"term": "timbuktu", "app_label": "articles", "model_name": "article", "field_name": "lead_image"}
    )

    # With what the body editor needs to insert it as a figure.
    assert response.json()["results"] == [
        {
            "id": str(image.pk),
            "text": "Dunes near Timbuktu",
            "thumbnail": image.thumbnail_url,
            "src": image.picture["src"],
            "width": image.picture["width"],
            "height": image.picture["height"],
            "alt": "Dunes near Timbuktu",
            "caption": "Sand",
            "credit": "AFP",
        }
    ]
    assert image.thumbnail_url.endswith(".jpg") and "/w160-" in image.thumbnail_url


def test_chooser_needs_a_signed_in_editor(client):
    response = client.get(
        CHOOSER, {"term": "", "app_label": "articles", "model_name": "article", "field_name": "lead_image"}
    )

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_article_form_offers_the_chooser_with_the_current_thumbnail(admin_client):
    image = make_image(alt_text="Dunes near Timbuktu")
    article = make_article(lead_image=image)

    response = admin_client.get(f"{ARTICLES_ADMIN}{article.pk}/change/")

    select = re.search(r'<select name="lead_image"[^>]*>.*?</select>', response.content.decode(), re.S).group(0)
    assert 'class="image-chooser"' in select
    assert f'data-ajax--url="{CHOOSER}"' in select
    option = re.search(rf'<option value="{image.pk}"[^>]*>Dunes near Timbuktu</option>', select).group(0)
    assert f'data-thumbnail="{image.thumbnail_url}"' in option and "selected" in option
    assertContains(response, "/static/js/image-chooser.js")
    # "+" uploads a new photo in a pop-up without leaving the article.
    assertContains(response, f'href="{IMAGES_ADMIN}add/?_to_field=id&amp;_popup=1&amp;_source_model=articles.article"')


def test_article_list_shows_thumbnails_in_a_constant_number_of_queries(admin_client, django_assert_num_queries):
    for _ in range(3):
        make_article()
    without_images = count_queries(admin_client, ARTICLES_ADMIN)
    for _ in range(5):
        make_article(lead_image=make_image(width=200, height=150))

    with django_assert_num_queries(without_images + 1):
        response = admin_client.get(ARTICLES_ADMIN)

    assert response.content.decode().count('class="admin-thumbnail"') == 5


# Demo photos.


def test_demo_images_fixture_loads_by_natural_key():
    call_command("loaddata", "demo_images", verbosity=0)
    call_command("loaddata", "demo_images", verbosity=0)

    rows = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "demo_images.json").read_text())
    assert Image.objects.count() == len(rows) >= 4
    assert all(image.alt_text and image.credit for image in Image.objects.all())


def test_load_demo_images_is_idempotent_and_sets_lead_images(client, media_root):
    call_command("loaddata", "demo", verbosity=0)

    first = call_command_output("load_demo_images")
    second = call_command_output("load_demo_images")

    assert "5 copied" in first and "0 copied" in second
    assert "0 rendition(s) made" in second
    seed = Article.objects.get(slug="mali-receives-helicopters-and-weapons-from-russia")
    assert seed.lead_image is not None
    assert Article.objects.filter(lead_image__isnull=False).count() >= 5
    for image in Image.objects.all():
        assert (Path(media_root) / image.file.name).read_bytes()[:2] == b"\xff\xd8"
        assert image.renditions.count() == 5 * len(FORMATS) + 4  # the ladder, the social card, three crops
        assert image.file_size == image.file.size  # from the fixture, for feed enclosures
    assertContains(client.get(seed.get_absolute_url()), 'class="lead-image"')
    for path in stored_files(media_root):
        with PILImage.open(path) as stored:
            assert dict(stored.getexif()) == {}
    for path in (Path(__file__).resolve().parents[2] / "fixtures" / "images").glob("*.jpg"):
        assert path.stat().st_size < 300 * 1024


# Hardening (issue 13): profiles, shapes, bit depths and encoder failures.


def large_profile(size=15 * 1024 * 1024):
    """A readable sRGB profile padded to `size` bytes, as some cameras and editors embed."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    padded = bytearray(profile + b"\0" * (size - len(profile)))
    padded[0:4] = struct.pack(">I", len(padded))
    return bytes(padded)


@pytest.mark.parametrize("profile", [large_profile(), b"not a profile" * 100_000], ids=["readable", "unreadable"])
def test_a_large_colour_profile_is_not_copied_into_the_original_or_any_rendition(media_root, profile):
    data = encode(photo((700, 500)), "JPEG", quality=90, icc_profile=profile)
    assert len(data) > len(profile)

    image = images.save_prepared_image(prepared=images.prepare_upload(upload(data)), alt_text="A", renditions=False)
    images.make_renditions(image)

    files = stored_files(media_root)
    assert len(files) == 1 + image.renditions.count() > 5
    for path in files:
        with PILImage.open(path) as stored:
            assert len(stored.info.get("icc_profile") or b"") <= images.MAX_ICC_PROFILE_BYTES, path.name
    assert sum(path.stat().st_size for path in files) < 2 * 1024 * 1024


def test_a_small_colour_profile_is_kept():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    prepared = images.prepare_upload(upload(encode(photo(), "JPEG", icc_profile=profile)))
    with PILImage.open(io.BytesIO(prepared.content)) as stored:
        assert stored.info["icc_profile"] == profile


def test_a_one_pixel_wide_strip_is_refused_at_once_without_decoding(monkeypatch):
    def no_decoding(*args, **kwargs):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(PILImage.Image, "load", no_decoding)
    message = rejection(png_header_only(1, 49_999_999), name="strip.png")
    assert "This image is 1 × 49,999,999 pixels: each side may be at most 16,383 pixels." in message


@pytest.mark.parametrize("size", [(12_000, 400), (100, 2_100)])
def test_an_extreme_aspect_ratio_is_refused(size):
    message = rejection(png_header_only(*size), name="strip.png")
    assert "a side may be at most 20 times the other" in message


def test_a_long_strip_in_the_admin_is_a_form_error(admin_client, media_root):
    response = admin_upload(admin_client, png_header_only(1, 49_999_999), name="strip.png")
    assert response.status_code == 200
    assertContains(response, "each side may be at most 16,383 pixels")
    assert stored_files(media_root) == []
    assert not Image.objects.exists()


def test_a_16_bit_greyscale_png_keeps_its_tones():
    grey = PILImage.new("I;16", (300, 200), 0x8000)
    grey.paste(PILImage.new("I;16", (100, 200), 0x1000), (0, 0))
    prepared = images.prepare_upload(upload(encode(grey, "PNG"), "grey16.png"))
    with PILImage.open(io.BytesIO(prepared.content)) as stored:
        stored = stored.convert("L")
        assert stored.getpixel((250, 100)) == 0x8000 // 257
        assert stored.getpixel((50, 100)) == 0x1000 // 257


def test_an_encoder_failure_keeps_the_other_renditions_and_marks_the_image_failed(media_root, monkeypatch):
    image = make_image(width=700, height=500, renditions=False)
    encode_rendition = images._encode

    def failing_webp(picture, format, icc_profile):
        if format == Rendition.Format.WEBP:
            raise OSError("encoder error -2")
        return encode_rendition(picture, format, icc_profile)

    monkeypatch.setattr(images, "_encode", failing_webp)
    with pytest.raises(images.RenditionError):
        images.make_renditions(image)

    image.refresh_from_db()
    assert image.renditions_status == Image.RenditionsStatus.FAILED
    assert image.renditions_attempts == 1
    assert "w640.webp: encoder error -2" in image.renditions_error
    # 160, 320, 640, the social card and the 16:9, 4:3 and 1:1 crops for structured data
    assert image.renditions.filter(format=Rendition.Format.JPEG).count() == 7
    assert not image.renditions.filter(format=Rendition.Format.WEBP).exists()

    monkeypatch.setattr(images, "_encode", encode_rendition)
    assert images.make_renditions(image) == 3
    image.refresh_from_db()
    assert (image.renditions_status, image.renditions_error, image.renditions_attempts) == ("ready", "", 0)


def test_the_image_admin_shows_failed_renditions_and_makes_them_again(
    admin_client, media_root, django_capture_on_commit_callbacks
):
    image = make_image(width=700, height=500)
    image.renditions.all().delete()
    Image.objects.filter(pk=image.pk).update(
        renditions_status=Image.RenditionsStatus.FAILED, renditions_error="disk full", renditions_attempts=4
    )

    listing = admin_client.get(IMAGES_ADMIN + "?renditions_status__exact=failed")
    assertContains(listing, "Failed (4 attempts in a row): disk full")
    assertContains(admin_client.get(f"{IMAGES_ADMIN}{image.pk}/change/"), "disk full")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            IMAGES_ADMIN, {"action": "make_renditions_again", "_selected_action": [image.pk]}, follow=True
        )
    assertContains(response, "The renditions of 1 image will be made again by the worker.")
    image.refresh_from_db()
    assert image.renditions_status == Image.RenditionsStatus.READY
    assert image.renditions.count() == len(images.specs_for(image))
